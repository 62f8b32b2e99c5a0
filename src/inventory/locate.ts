/** Source positions for values of a parsed inventory, looked up by their path in the document. */
import type { Document, LineCounter, Node } from 'yaml';
import type { SourcePos } from '../diagnostics.ts';
import { arrayElementOffsets } from './json-rows.ts';
import { yaml } from '../yaml-module.ts';

export type Path = readonly (string | number)[];

/** Where a value (`at`) or the key naming it (`key`) was written. Paths are relative to the locator's root. */
export interface Locator {
  at(path: Path): SourcePos;
  key(path: Path): SourcePos;
}

/** A locator for sources that only know one position (e.g. a Chef row): every path points there. */
export function fixedLocator(pos: SourcePos): Locator {
  return { at: () => pos, key: () => pos };
}

/**
 * Where each host of a JSON document (an element of its host list) starts. The text is scanned once, the first
 * time a position is asked for: a document whose hosts raise no diagnostic is never scanned.
 */
export class JsonEntryPlaces {
  private starts: SourcePos[] | null = null;

  /** `key`: the top-level field holding the list (`hosts`, `rows`); null: the document is the list. */
  constructor(
    private readonly text: string,
    private readonly key: string | null,
    private readonly file: string,
  ) {}

  start(index: number): SourcePos {
    this.starts ??= positionsOf(this.text, arrayElementOffsets(this.text, this.key), this.file);
    return this.starts[index] ?? { file: this.file, line: 1, col: 1 };
  }

  /** Entry `index`'s locator: JSON hosts know only where they start, so every path points there. */
  locator(index: number): Locator {
    return new EntryStart(this, index);
  }
}

class EntryStart implements Locator {
  constructor(
    private readonly places: JsonEntryPlaces,
    private readonly index: number,
  ) {}

  at(): SourcePos {
    return this.places.start(this.index);
  }

  key(): SourcePos {
    return this.places.start(this.index);
  }
}

/** Positions of ascending offsets in `text`, found in one pass (for text that the yaml lexer did not read). */
export function positionsOf(text: string, offsets: readonly number[], file: string): SourcePos[] {
  const positions: SourcePos[] = [];
  let line = 1;
  let lineStart = 0;
  let next = text.indexOf('\n');
  for (const offset of offsets) {
    while (next !== -1 && next < offset) {
      line++;
      lineStart = next + 1;
      next = text.indexOf('\n', lineStart);
    }
    positions.push({ file, line, col: offset - lineStart + 1 });
  }
  return positions;
}

export function positionOf(offset: number, lines: LineCounter, file: string): SourcePos {
  const { line, col } = lines.linePos(offset);
  return { file, line: Math.max(line, 1), col };
}

function child(doc: Document, node: Node, segment: string | number): Node | undefined {
  const { isAlias, isMap, isNode, isScalar, isSeq } = yaml();
  const target = isAlias(node) ? node.resolve(doc) : node;
  if (isMap(target)) {
    const pair = target.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
    return isNode(pair?.value) ? pair.value : undefined;
  }
  if (isSeq(target)) {
    const item = target.items[Number(segment)];
    return isNode(item) ? item : undefined;
  }
  return undefined;
}

function keyNode(doc: Document, node: Node, segment: string | number): Node | undefined {
  const { isAlias, isMap, isNode, isScalar } = yaml();
  const target = isAlias(node) ? node.resolve(doc) : node;
  if (!isMap(target)) return undefined;
  const pair = target.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
  return isNode(pair?.key) ? pair.key : undefined;
}

/** Locates paths in a yaml Document below `root`; a path that does not resolve falls back to its deepest ancestor. */
export function yamlLocator(doc: Document, lines: LineCounter, file: string, root: Path = []): Locator {
  const { isNode } = yaml();
  const walk = (path: Path): { node: Node; depth: number } | undefined => {
    let node = isNode(doc.contents) ? doc.contents : undefined;
    if (node === undefined) return undefined;
    let depth = 0;
    for (const segment of path) {
      const next = child(doc, node, segment);
      if (next === undefined) break;
      node = next;
      depth++;
    }
    return { node, depth };
  };
  const pos = (node: Node | undefined): SourcePos => positionOf(node?.range?.[0] ?? 0, lines, file);
  return {
    at: (path) => pos(walk([...root, ...path])?.node),
    key: (path) => {
      const full = [...root, ...path];
      const last = full.at(-1);
      const parent = walk(full.slice(0, -1));
      if (last === undefined || parent === undefined || parent.depth < full.length - 1) return pos(parent?.node);
      return pos(keyNode(doc, parent.node, last) ?? child(doc, parent.node, last) ?? parent.node);
    },
  };
}

/** A YAML text parsed with positions: the document and where its lines start. */
export interface PositionedYaml {
  doc: Document;
  lines: LineCounter;
}

/** The positioned parse of an inventory's text (the one home of its options). */
export function parsePositioned(text: string): PositionedYaml {
  const { LineCounter, parseDocument } = yaml();
  const lines = new LineCounter();
  return { doc: parseDocument(text, { lineCounter: lines, prettyErrors: false }), lines };
}

/**
 * Locators below paths of a YAML text that was read without positions (src/plain-yaml.ts): the text is parsed
 * again with positions (`positioned`, made once for all of them) the first time one of them is asked where
 * something was written.
 */
export function lazyYamlLocators(text: string, file: string): { locators: (root: Path) => Locator; positioned: () => PositionedYaml } {
  let parsed: PositionedYaml | undefined;
  const positioned = (): PositionedYaml => (parsed ??= parsePositioned(text));
  const located = (root: Path): Locator => yamlLocator(positioned().doc, positioned().lines, file, root);
  return { locators: (root) => ({ at: (path) => located(root).at(path), key: (path) => located(root).key(path) }), positioned };
}
