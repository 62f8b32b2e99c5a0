/** One policy file's YAML (or JSON) tree with the position of every node, and the diagnostics found in it. */
import { LineCounter, isAlias, isMap, isScalar, parseDocument, type Document, type Node } from 'yaml';
import { error, warning, type Diagnostic, type SourcePos } from '../diagnostics.ts';
import { didYouMean } from '../suggest.ts';
import { unresolvedAliases, yamlErrors } from '../source-text.ts';

export interface Entry {
  key: string;
  keyNode: Node;
  /** null for an empty value (`key:`). */
  value: Node | null;
}

export class SourceFile {
  readonly diagnostics: Diagnostic[] = [];
  readonly root: Node | null;
  private readonly doc: Document.Parsed;
  private readonly lines = new LineCounter();

  constructor(
    readonly path: string,
    text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: false, prettyErrors: false });
    for (const e of yamlErrors(this.doc.errors)) this.diagnostics.push(error(`invalid syntax: ${firstLine(e.message)}`, this.offsetPos(e.offset)));
    if (this.doc.errors.length === 0) this.diagnostics.push(...unresolvedAliases(this.doc, this.lines, path));
    this.root = this.resolve(this.doc.contents);
  }

  private offsetPos(offset: number): SourcePos {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.path, line, col };
  }

  pos(node: Node | null | undefined): SourcePos {
    const offset = node?.range?.[0];
    return offset === undefined ? { file: this.path, line: 1, col: 1 } : this.offsetPos(offset);
  }

  /** The position of `col` (1-based) inside a string scalar's text, counting its opening quote. */
  innerPos(node: Node, col: number): SourcePos {
    const start = this.pos(node);
    const quoted = isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE');
    return { ...start, col: start.col + col - 1 + (quoted ? 1 : 0) };
  }

  error(at: Node | SourcePos | null, message: string, rule?: string): void {
    this.diagnostics.push(error(message, { ...this.where(at), ...(rule === undefined ? {} : { rule }) }));
  }

  warning(at: Node | SourcePos | null, message: string, rule?: string): void {
    this.diagnostics.push(warning(message, { ...this.where(at), ...(rule === undefined ? {} : { rule }) }));
  }

  resolve(node: unknown): Node | null {
    if (isAlias(node)) return this.resolve(node.resolve(this.doc));
    if (node === null || node === undefined || (isScalar(node) && node.value === null)) return null;
    return node as Node;
  }

  /**
   * A mapping's entries; reports a value that is not a mapping, duplicate keys and, given `known`,
   * unknown keys ("unknown <noun>", with a did-you-mean). Returns null when `node` is not a mapping.
   */
  entries(node: Node | null, what: string, options: { rule?: string; known?: readonly string[]; noun?: string } = {}): Entry[] | null {
    if (!isMap(node)) {
      this.error(node, `${what} must be a mapping`, options.rule);
      return null;
    }
    const seen = new Map<string, SourcePos>();
    const result: Entry[] = [];
    for (const pair of node.items) {
      const keyNode = this.resolve(pair.key);
      const key = isScalar(keyNode) ? String(keyNode.value) : null;
      if (keyNode === null || key === null) {
        this.error(keyNode ?? node, `${what}: a key must be a plain name`, options.rule);
        continue;
      }
      const first = seen.get(key);
      if (first !== undefined) {
        this.error(keyNode, `duplicate key "${key}" (first at line ${first.line})`, options.rule);
        continue;
      }
      seen.set(key, this.pos(keyNode));
      if (options.known !== undefined && !options.known.includes(key)) {
        this.error(keyNode, `unknown ${options.noun ?? `key in ${what}`} "${key}"${didYouMean(key, options.known)}`, options.rule);
        continue;
      }
      result.push({ key, keyNode, value: this.resolve(pair.value) });
    }
    return result;
  }

  private where(at: Node | SourcePos | null): SourcePos {
    return at !== null && 'file' in at ? at : this.pos(at);
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
