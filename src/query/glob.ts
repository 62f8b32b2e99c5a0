/** Wildcard values (`*` any run, `?` one character, `\x` a literal x; see ast.ts) as anchored RegExps. */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i] as string;
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else {
      const literal = ch === '\\' ? (chars[++i] ?? '\\') : ch;
      source += literal.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`, 'su');
}
