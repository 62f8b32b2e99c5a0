/** Finds where each host (or knife row) of a JSON document starts, without a position-tracking parse of the whole text. */

function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return i;
}

/**
 * Offsets of the elements of the top-level object's `key` array (null: of the top-level array itself), in
 * text that JSON.parse accepted.
 */
export function arrayElementOffsets(text: string, key: string | null): number[] {
  const offsets: number[] = [];
  let depth = 0;
  let lastTopString = '';
  let arrayDepth = -1;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === ' ' || c === '\n' || c === '\r' || c === '\t') continue;
    if (expectElement && c !== ']') offsets.push(i);
    expectElement = false;
    if (c === '"') {
      const end = stringEnd(text, i);
      if (depth === 1) lastTopString = text.slice(i, end + 1);
      i = end;
    } else if (c === '{' || c === '[') {
      depth++;
      const wanted = (): boolean => (key === null ? depth === 1 : depth === 2 && JSON.parse(lastTopString || '""') === key);
      if (c === '[' && arrayDepth === -1 && wanted()) {
        arrayDepth = depth;
        expectElement = true;
      }
    } else if (c === '}' || c === ']') {
      if (depth === arrayDepth) arrayDepth = -2;
      depth--;
    } else if (c === ',' && depth === arrayDepth) {
      expectElement = true;
    }
  }
  return offsets;
}
