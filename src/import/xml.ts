/**
 * The XML of firewalld's configuration files: elements, attributes, text, comments and the XML declaration.
 * No DTD, no entities beyond the five predefined and character references, bounded depth and size: a zone
 * file is a few dozen elements, and anything else is refused at its line.
 */
import { importError, type Place } from './model.ts';

export interface XmlElement {
  name: string;
  attributes: Map<string, string>;
  children: XmlElement[];
  text: string;
  place: Place;
}

const MAX_DEPTH = 32;
const MAX_ELEMENTS = 100_000;
const NAME = /[A-Za-z_][\w.-]*/y;
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

export function parseXml(text: string, file: string): XmlElement {
  let pos = 0;
  let line = 1;
  let count = 0;
  const place = (): Place => ({ file, line });
  const fail = (message: string): never => {
    throw importError(message, place());
  };
  const advance = (to: number): void => {
    for (let i = pos; i < to; i++) if (text.charCodeAt(i) === 10) line++;
    pos = to;
  };
  const skipSpace = (): void => {
    let i = pos;
    while (i < text.length && /\s/.test(text[i] as string)) i++;
    advance(i);
  };
  const decode = (raw: string): string =>
    raw.replace(/&(#x[\da-f]+|#\d+|\w+);|&/gi, (whole, ref: string | undefined) => {
      if (ref === undefined) return fail('a bare "&": write &amp;');
      if (ref.startsWith('#')) {
        const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
        if (!(code > 0 && code <= 0x10ffff)) return fail(`character reference ${whole} is out of range`);
        return String.fromCodePoint(code);
      }
      return ENTITIES[ref] ?? fail(`unknown entity ${whole} (only &lt; &gt; &amp; &quot; &apos; and character references)`);
    });
  const name = (): string => {
    NAME.lastIndex = pos;
    const m = NAME.exec(text);
    if (m === null) return fail(`expected a name at "${text.slice(pos, pos + 10)}"`);
    advance(pos + m[0].length);
    return m[0];
  };
  /** Comments, the declaration and blanks between elements. */
  const skipMisc = (): void => {
    for (;;) {
      skipSpace();
      if (text.startsWith('<!--', pos)) {
        const end = text.indexOf('-->', pos + 4);
        if (end === -1) fail('unterminated comment');
        advance(end + 3);
      } else if (text.startsWith('<?', pos)) {
        const end = text.indexOf('?>', pos + 2);
        if (end === -1) fail('unterminated <? ... ?>');
        advance(end + 2);
      } else if (text.startsWith('<!', pos)) {
        fail('DOCTYPE, CDATA and other declarations are not accepted in a firewalld file');
      } else return;
    }
  };
  const element = (depth: number): XmlElement => {
    if (depth > MAX_DEPTH) fail(`elements nested deeper than ${MAX_DEPTH}`);
    if (++count > MAX_ELEMENTS) fail(`more than ${MAX_ELEMENTS} elements`);
    const at = place();
    if (text[pos] !== '<') fail('expected an element');
    advance(pos + 1);
    const el: XmlElement = { name: name(), attributes: new Map(), children: [], text: '', place: at };
    for (;;) {
      skipSpace();
      if (text.startsWith('/>', pos)) {
        advance(pos + 2);
        return el;
      }
      if (text[pos] === '>') {
        advance(pos + 1);
        break;
      }
      const attr = name();
      skipSpace();
      if (text[pos] !== '=') fail(`attribute ${attr} needs ="value"`);
      advance(pos + 1);
      skipSpace();
      const quote = text[pos];
      if (quote !== '"' && quote !== "'") fail(`attribute ${attr}: the value must be quoted`);
      const end = text.indexOf(quote as string, pos + 1);
      if (end === -1) fail(`attribute ${attr}: unterminated value`);
      const value = text.slice(pos + 1, end);
      if (value.includes('<')) fail(`attribute ${attr}: "<" in a value`);
      if (el.attributes.has(attr)) fail(`attribute ${attr} given twice`);
      el.attributes.set(attr, decode(value));
      advance(end + 1);
    }
    for (;;) {
      const next = text.indexOf('<', pos);
      if (next === -1) fail(`element <${el.name}> (line ${at.line}) is not closed`);
      el.text += decode(text.slice(pos, next));
      advance(next);
      if (text.startsWith('</', pos)) {
        advance(pos + 2);
        const closing = name();
        if (closing !== el.name) fail(`</${closing}> closes <${el.name}> (line ${at.line})`);
        skipSpace();
        if (text[pos] !== '>') fail(`expected ">" after </${closing}`);
        advance(pos + 1);
        el.text = el.text.trim();
        return el;
      }
      if (text.startsWith('<!--', pos) || text.startsWith('<?', pos) || text.startsWith('<!', pos)) skipMisc();
      else el.children.push(element(depth + 1));
    }
  };
  skipMisc();
  if (pos >= text.length) fail('no XML element');
  const root = element(1);
  skipMisc();
  if (pos < text.length) fail('content after the root element');
  return root;
}
