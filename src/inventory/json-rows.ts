/** Finds where each host (or knife row) of a JSON document starts, without a position-tracking parse of the whole text. */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The offset of the quote closing the string that opens at `start` (native searches: strings are most of the text). */
function stringEnd(text: string, start: number): number {
  let end = text.indexOf('"', start + 1);
  for (;;) {
    let escapes = 0;
    while (text.charCodeAt(end - 1 - escapes) === BACKSLASH) escapes++;
    if (escapes % 2 === 0 || end === -1) return end;
    end = text.indexOf('"', end + 1);
  }
}

/**
 * Offsets of the elements of the top-level object's `key` array (null: of the top-level array itself), in
 * text that JSON.parse accepted. A key written twice: its last array, the one JSON.parse keeps.
 */
export function arrayElementOffsets(text: string, key: string | null): number[] {
  let offsets: number[] = [];
  let depth = 0;
  let lastTopString = -1;
  let arrayDepth = -1;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
    if (expectElement && c !== 0x5d) offsets.push(i);
    expectElement = false;
    if (c === QUOTE) {
      const end = stringEnd(text, i);
      if (depth === 1) lastTopString = i;
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (c === 0x5b && arrayDepth === -1 && (key === null ? depth === 1 : depth === 2 && lastTopString !== -1 && JSON.parse(text.slice(lastTopString, stringEnd(text, lastTopString) + 1)) === key)) {
        arrayDepth = depth;
        expectElement = true;
        offsets = [];
      }
    } else if (c === 0x7d || c === 0x5d) {
      if (depth === arrayDepth) arrayDepth = -1;
      depth--;
    } else if (c === 0x2c && depth === arrayDepth) {
      expectElement = true;
    }
  }
  return offsets;
}

/** How deep the arrays and objects of JSON text (accepted by JSON.parse) nest, counting the outermost as 1. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = stringEnd(text, i);
    else if (c === 0x7b || c === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}
