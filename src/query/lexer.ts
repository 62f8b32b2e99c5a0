/**
 * Tokens of the query language, read one at a time (`lexToken`) so that the parser reports the leftmost
 * error. A term (`field:value`, `*:*`) is a single token: fields are resolved to their canonical name here,
 * and values are unescaped. In a wildcard value `*` and `?` are wildcards and a literal `*`, `?` or `\`
 * is kept escaped with `\` (see ast.ts); every other value is the literal text.
 */
import { QuerySyntaxError } from './ast.ts';

interface TokenBase {
  /** 1-based column of the token's first character. */
  col: number;
  /** 0-based offset just past the token. */
  end: number;
  /** The token as written, for messages. */
  text: string;
}

export type Token =
  | (TokenBase & { kind: 'and' | 'or' | 'not' | 'lparen' | 'rparen' | 'all' | 'sametag' | 'eof' })
  | (TokenBase & { kind: 'term'; field: string; value: string; wildcard: boolean })
  /** A bare word without `field:`; only valid as a keyword, which the parser reports. */
  | (TokenBase & { kind: 'word' })
  /** A quoted string without `field:`. */
  | (TokenBase & { kind: 'quoted' });

const FIELD_ALIASES: ReadonlyMap<string, string> = new Map([
  ['chef_environment', 'environment'],
  ['role', 'roles'],
  ['tag', 'tags'],
]);
const KEYWORDS: ReadonlyMap<string, 'and' | 'or' | 'not' | 'sametag'> = new Map([
  ['AND', 'and'],
  ['OR', 'or'],
  ['NOT', 'not'],
  ['SAMETAG', 'sametag'],
]);
const BARE_CHAR = /^[\p{L}\p{N}_\-./@*?+=,%#~'$:]$/u;
const FIELD_CHAR = /^[\p{L}\p{N}_\-.]$/u;
const FIELD_NAME = /^[\p{L}\p{N}_-]+(\.[\p{L}\p{N}_-]+)*$/u;

/** Whether `ch` (one code point) can be written unescaped in a bare value. */
export function isBareChar(ch: string): boolean {
  return BARE_CHAR.test(ch);
}

function charAt(text: string, pos: number): string {
  const code = text.codePointAt(pos);
  return code === undefined ? '' : String.fromCodePoint(code);
}

interface Run {
  /** Characters with whether each was escaped. */
  chars: { ch: string; escaped: boolean }[];
  end: number;
  wildcard: boolean;
  /** 0-based offset of the first `\`, or -1. */
  firstEscape: number;
}

function scanRun(text: string, start: number, allowColon: boolean): Run {
  const run: Run = { chars: [], end: start, wildcard: false, firstEscape: -1 };
  let pos = start;
  while (pos < text.length) {
    const ch = charAt(text, pos);
    if (ch === '\\') {
      const next = charAt(text, pos + 1);
      if (next === '') throw new QuerySyntaxError(`'\\' at the end of the query escapes nothing`, pos + 1);
      if (run.firstEscape < 0) run.firstEscape = pos;
      run.chars.push({ ch: next, escaped: true });
      pos += 1 + next.length;
    } else if ((ch === ':' && !allowColon) || !isBareChar(ch)) {
      break;
    } else {
      if (ch === '*' || ch === '?') run.wildcard = true;
      run.chars.push({ ch, escaped: false });
      pos += ch.length;
    }
  }
  run.end = pos;
  return run;
}

function runValue(run: Run): string {
  if (!run.wildcard) return run.chars.map((c) => c.ch).join('');
  return run.chars.map(({ ch, escaped }) => (escaped && (ch === '*' || ch === '?' || ch === '\\') ? `\\${ch}` : ch)).join('');
}

function scanQuoted(text: string, start: number): { value: string; end: number } {
  let value = '';
  let pos = start + 1;
  while (pos < text.length) {
    const ch = charAt(text, pos);
    if (ch === '"') return { value, end: pos + 1 };
    if (ch === '\\') {
      const next = charAt(text, pos + 1);
      if (next === '') break;
      value += next;
      pos += 1 + next.length;
    } else {
      value += ch;
      pos += ch.length;
    }
  }
  throw new QuerySyntaxError('unterminated quoted value: missing closing \'"\'', start + 1);
}

function checkFieldName(text: string, start: number, run: Run): string {
  const field = text.slice(start, run.end);
  if (run.firstEscape >= 0) throw new QuerySyntaxError(`field names cannot contain '\\'`, run.firstEscape + 1);
  if (FIELD_NAME.test(field)) return FIELD_ALIASES.get(field) ?? field;
  for (let pos = start; pos < run.end; ) {
    const ch = charAt(text, pos);
    if (!FIELD_CHAR.test(ch)) throw new QuerySyntaxError(`invalid character '${ch}' in field name "${field}"`, pos + 1);
    pos += ch.length;
  }
  throw new QuerySyntaxError(`invalid field name "${field}": empty part in a dotted path`, start + 1);
}

function lexTerm(text: string, start: number, fieldRun: Run): Token {
  const col = start + 1;
  const colon = fieldRun.end;
  const valueStart = colon + 1;
  if (text.slice(start, colon) === '*') {
    const value = scanRun(text, valueStart, true);
    if (text.slice(valueStart, value.end) === '*') return { kind: 'all', col, end: value.end, text: '*:*' };
    throw new QuerySyntaxError(`'*' as a field is only valid in *:* (every host)`, col);
  }
  const field = checkFieldName(text, start, fieldRun);
  const fieldText = text.slice(start, colon);
  if (text[valueStart] === '"') {
    const quoted = scanQuoted(text, valueStart);
    return { kind: 'term', field, value: quoted.value, wildcard: false, col, end: quoted.end, text: text.slice(start, quoted.end) };
  }
  const run = scanRun(text, valueStart, true);
  if (run.chars.length === 0) {
    const next = charAt(text, valueStart);
    if (next !== '' && !/[\s()&|!]/u.test(next)) throw new QuerySyntaxError(`unexpected character '${next}'`, valueStart + 1);
    const hint = next === '(' ? `; to match several values write (${fieldText}:a OR ${fieldText}:b)` : '';
    throw new QuerySyntaxError(`missing value after '${fieldText}:'${hint}`, valueStart + 1);
  }
  return { kind: 'term', field, value: runValue(run), wildcard: run.wildcard, col, end: run.end, text: text.slice(start, run.end) };
}

/** The token starting at or after offset `pos` (whitespace is skipped). */
export function lexToken(text: string, pos: number): Token {
  let start = pos;
  while (start < text.length && /\s/u.test(charAt(text, start))) start += charAt(text, start).length;
  const col = start + 1;
  if (start >= text.length) return { kind: 'eof', col, end: start, text: '' };
  const ch = charAt(text, start);
  const two = text.slice(start, start + 2);
  if (ch === '(') return { kind: 'lparen', col, end: start + 1, text: ch };
  if (ch === ')') return { kind: 'rparen', col, end: start + 1, text: ch };
  if (ch === '!') return { kind: 'not', col, end: start + 1, text: ch };
  if (two === '&&') return { kind: 'and', col, end: start + 2, text: two };
  if (two === '||') return { kind: 'or', col, end: start + 2, text: two };
  if (ch === '&' || ch === '|') throw new QuerySyntaxError(`unexpected character '${ch}' (use ${ch === '&' ? 'AND or &&' : 'OR or ||'})`, col);
  if (ch === ':') throw new QuerySyntaxError(`empty field name before ':'`, col);
  if (ch === '"') {
    const quoted = scanQuoted(text, start);
    return { kind: 'quoted', col, end: quoted.end, text: text.slice(start, quoted.end) };
  }
  if (ch !== '\\' && !isBareChar(ch)) throw new QuerySyntaxError(`unexpected character '${ch}'`, col);
  const run = scanRun(text, start, false);
  if (text[run.end] === ':') return lexTerm(text, start, run);
  const word = text.slice(start, run.end);
  const keyword = KEYWORDS.get(word);
  return { kind: keyword ?? 'word', col, end: run.end, text: word };
}
