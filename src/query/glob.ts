/**
 * Wildcard values (`*` any run, `?` one character, `\x` a literal x; see ast.ts), matched anchored against
 * whole values. Matching backtracks only to the last `*` seen, so it takes at most O(pattern × value) steps
 * whatever the input: a hostile value or pattern (`*r*r*r…*x` over a long run of `r`) cannot make it hang,
 * as a backtracking RegExp would.
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

function codePoints(value: string): number[] {
  const out: number[] = [];
  for (const ch of value) out.push(ch.codePointAt(0) as number);
  return out;
}

/** A matcher for `pattern`: true when the whole value matches. */
export function compileGlob(pattern: string): Glob {
  const want = tokens(pattern);
  return (value: string): boolean => {
    const have = codePoints(value);
    let p = 0;
    let v = 0;
    let starAt = -1;
    let resumeAt = 0;
    while (v < have.length) {
      const token = want[p];
      if (token === STAR) {
        starAt = p++;
        resumeAt = v;
      } else if (token !== undefined && (token === ANY || token === have[v])) {
        p++;
        v++;
      } else if (starAt >= 0) {
        p = starAt + 1;
        v = ++resumeAt;
      } else {
        return false;
      }
    }
    while (want[p] === STAR) p++;
    return p === want.length;
  };
}
