/** Checks raw rule text for characters that would break out of the one rule it is meant to be. */

/** The first dangerous character of `text` and why, as an index (0-based) and a message; null when safe. */
export function unsafeCharacter(text: string): { index: number; message: string } | null {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    const ch = text[index];
    if (ch === ';') return { index, message: 'contains ";": it would end this command and start another in the nft script' };
    if (ch === '#') return { index, message: 'contains "#": it would turn the rest of the line into a comment in the nft script or the restore file' };
    if (ch === '\n' || ch === '\r') return { index, message: 'contains a line break: it would start another command in the nft script or the restore file' };
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029) {
      return { index, message: `contains the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}, which has no place in a rule` };
    }
  }
  return null;
}
