/**
 * Hazards of reading a policy or inventory document, reported at their position instead of passing
 * silently: bytes that are not UTF-8 (which a plain decode turns into U+FFFD), YAML aliases whose anchor
 * does not exist (which a plain read turns into an empty value), and nesting deeper than the YAML parser's
 * stack (which it reports as a stack overflow).
 */
import { isUtf8 } from 'node:buffer';
import type { Document, LineCounter, YAMLError } from 'yaml';
import { InputError, error, type Diagnostic } from './diagnostics.ts';
import { yaml } from './yaml-module.ts';

const STACK_OVERFLOW = 'Maximum call stack size exceeded';

/**
 * A YAML document's parse errors as messages at their offsets: the parser's stack overflow on a hostile depth of
 * nesting said as what it is, and once (the parser reports it again for each level it unwinds).
 */
export function yamlErrors(errors: readonly YAMLError[]): Array<{ message: string; offset: number }> {
  const deep = errors.find((e) => e.message.includes(STACK_OVERFLOW));
  return errors
    .filter((e) => e === deep || !e.message.includes(STACK_OVERFLOW))
    .map((e) => ({ message: e === deep ? 'nested too deeply to read (lists or mappings within one another, thousands deep)' : e.message, offset: e.pos[0] }));
}

/** Length of the UTF-8 sequence starting at `i`, or 0 when it is not valid UTF-8 (overlong, surrogate, truncated). */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b = bytes[i] as number;
  if (b < 0x80) return 1;
  const [length, min] = b >= 0xc2 && b <= 0xdf ? [2, 0x80] : b >= 0xe0 && b <= 0xef ? [3, 0x800] : b >= 0xf0 && b <= 0xf4 ? [4, 0x10000] : [0, 0];
  if (length === 0 || i + length > bytes.length) return 0;
  let code = b & (0xff >> (length + 1));
  for (let k = 1; k < length; k++) {
    const c = bytes[i + k] as number;
    if ((c & 0xc0) !== 0x80) return 0;
    code = (code << 6) | (c & 0x3f);
  }
  return code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff) ? 0 : length;
}

/** The text of a document read from `file`; an InputError at the first byte that is not UTF-8. */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(buffer)) return buffer.toString('utf8');
  let i = 0;
  for (let length = sequenceLength(buffer, 0); length > 0 && i < buffer.length; length = sequenceLength(buffer, i)) i += length;
  const lineStart = buffer.lastIndexOf(0x0a, i - 1) + 1;
  let line = 1;
  for (let at = buffer.indexOf(0x0a); at !== -1 && at < i; at = buffer.indexOf(0x0a, at + 1)) line++;
  const col = buffer.subarray(lineStart, i).toString('utf8').length + 1;
  const byte = (buffer[i] as number).toString(16).padStart(2, '0');
  throw new InputError([error(`invalid UTF-8 (byte 0x${byte}): save the file as UTF-8`, { file, line, col })]);
}

/** An error at every alias whose anchor is not defined before it. */
export function unresolvedAliases(doc: Document, lines: LineCounter, file: string): Diagnostic[] {
  const { isAlias, visit } = yaml();
  const found: Diagnostic[] = [];
  visit(doc, {
    Alias(_key, node) {
      if (!isAlias(node) || node.resolve(doc) !== undefined) return;
      const { line, col } = lines.linePos(node.range?.[0] ?? 0);
      found.push(error(`alias *${node.source} has no anchor &${node.source} before it`, { file, line, col }));
    },
  });
  return found;
}
