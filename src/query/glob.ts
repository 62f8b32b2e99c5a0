/**
 * Wildcard values (`*` any run, `?` one character, `\x` a literal x; see ast.ts), matched anchored against
 * whole values. A pattern with several `*` is matched by a loop that backtracks only to the last `*` seen,
 * so it takes at most O(pattern × value) steps whatever the input: a hostile value or pattern (`*r*r*r…*x`
 * over a long run of `r`) cannot make it hang, as a backtracking RegExp would. A pattern with at most one
 * `*` cannot blow up in a RegExp either, and V8 runs those faster.
 */

/** One code point of a pattern: a literal, or a wildcard. */
const STAR = -1;
const ANY = -2;

export type Glob = (value: string) => boolean;

function tokens(pattern: string): number[] {
  const out: number[] = [];
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === '*') {
      if (out[out.length - 1] !== STAR) out.push(STAR);
    } else if (ch === '?') out.push(ANY);
    else out.push((ch === '\\' ? (chars[++i] ?? '\\') : ch).codePointAt(0) as number);
  }
  return out;
}

function toRegExp(want: readonly number[]): RegExp {
  const source = want
    .map((token) => (token === STAR ? '.*' : token === ANY ? '.' : String.fromCodePoint(token).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 'su');
}

/** A matcher for `pattern`: true when the whole value matches. */
export function compileGlob(pattern: string): Glob {
  const want = tokens(pattern);
  if (want.filter((token) => token === STAR).length <= 1) {
    const regExp = toRegExp(want);
    return (value) => regExp.test(value);
  }
  return (value: string): boolean => {
    let p = 0;
    let v = 0;
    let starAt = -1;
    let resumeAt = 0;
    while (v < value.length) {
      const token = want[p];
      const code = value.codePointAt(v) as number;
      if (token === STAR) {
        starAt = p++;
        resumeAt = v;
      } else if (token !== undefined && (token === ANY || token === code)) {
        p++;
        v += code > 0xffff ? 2 : 1;
      } else if (starAt >= 0) {
        p = starAt + 1;
        resumeAt += (value.codePointAt(resumeAt) as number) > 0xffff ? 2 : 1;
        v = resumeAt;
      } else {
        return false;
      }
    }
    while (want[p] === STAR) p++;
    return p === want.length;
  };
}
