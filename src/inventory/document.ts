/** Parses an inventory document (YAML, JSON, or a knife search JSON) into a validated Inventory. */
import { LineCounter, parseDocument } from 'yaml';
import { InputError, error, type Diagnostic } from '../diagnostics.ts';
import { chefNodeToHost } from './chef.ts';
import { addressWarnings, duplicateNames } from './cross-host.ts';
import { checkHost } from './host.ts';
import { arrayElementOffsets } from './json-rows.ts';
import { countLines, fixedLocator, positionOf, yamlLocator, type Locator } from './locate.ts';
import { inventoryRevision } from './revision.ts';
import { didYouMean } from '../suggest.ts';
import type { Host, Inventory } from './types.ts';

/** One host entry before validation, with where its parts were written. */
interface Entry {
  raw: unknown;
  locate: Locator;
}

const TOP_LEVEL = ['hosts'];
const SHAPES = 'expected `hosts:` with a list of hosts, a bare list of hosts, or a `knife search node -F json` document with `rows`';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function byPosition(a: Diagnostic, b: Diagnostic): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0);
}

/**
 * A knife document in plain JSON is parsed with JSON.parse: knife output for a fleet is large, and its rows
 * are only ever located as a whole.
 */
function knifeJsonEntries(text: string, file: string): Entry[] | null {
  if (!text.trimStart().startsWith('{')) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(value) || !Array.isArray(value['rows']) || 'hosts' in value) return null;
  const lines = countLines(text);
  const offsets = arrayElementOffsets(text, 'rows');
  return value['rows'].map((row: unknown, i) => ({
    raw: chefNodeToHost(row),
    locate: fixedLocator(positionOf(offsets[i] ?? 0, lines, file)),
  }));
}

/** Host entries of a YAML (or JSON) document, or the errors that keep it from having any. */
function yamlEntries(text: string, file: string): { entries: Entry[]; errors: Diagnostic[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (offset: number) => positionOf(offset, lines, file);
  if (doc.errors.length > 0) {
    return { entries: [], errors: doc.errors.map((e) => error(`YAML syntax: ${e.message}`, at(e.pos[0]))) };
  }
  const root = yamlLocator(doc, lines, file);
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (cause) {
    return { entries: [], errors: [error(cause instanceof Error ? cause.message : String(cause), root.at([]))] };
  }
  const hostsAt = (list: unknown[], path: string[]): Entry[] =>
    list.map((raw, i) => ({ raw, locate: yamlLocator(doc, lines, file, [...path, i]) }));
  const rowsAt = (list: unknown[]): Entry[] =>
    list.map((row, i) => ({ raw: chefNodeToHost(row), locate: fixedLocator(root.at(['rows', i])) }));
  if (Array.isArray(value)) return { entries: hostsAt(value, []), errors: [] };
  if (isRecord(value) && !('hosts' in value) && 'rows' in value) {
    const rows = value['rows'];
    if (!Array.isArray(rows)) return { entries: [], errors: [error('`rows` of a knife search document must be a list of nodes', root.at(['rows']))] };
    return { entries: rowsAt(rows), errors: [] };
  }
  if (!isRecord(value) || !('hosts' in value)) return { entries: [], errors: [error(`no hosts: ${SHAPES}`, root.at([]))] };
  const errors = Object.keys(value)
    .filter((key) => !TOP_LEVEL.includes(key))
    .map((key) => error(`unknown top-level field "${key}"${didYouMean(key, TOP_LEVEL)}: ${SHAPES}`, root.key([key])));
  const hosts = value['hosts'] ?? [];
  if (!Array.isArray(hosts)) return { entries: [], errors: [...errors, error('`hosts` must be a list of hosts', root.at(['hosts']))] };
  return { entries: hostsAt(hosts, ['hosts']), errors };
}

/** Parses and validates a whole inventory document; throws InputError with every error in it. */
export function parseInventoryDocument(text: string, file: string): Inventory {
  const fast = knifeJsonEntries(text, file);
  const { entries, errors } = fast === null ? yamlEntries(text, file) : { entries: fast, errors: [] };
  const checked = entries.map(({ raw, locate }) => ({ entry: checkHost(raw, locate, locate.at([])), nameAt: locate.at(['name']) }));
  const diagnostics = [...errors, ...checked.flatMap(({ entry }) => entry.diagnostics), ...duplicateNames(checked)];
  if (diagnostics.length > 0) throw new InputError(diagnostics.sort(byPosition));
  const hosts = checked.map(({ entry }) => entry.host).filter((host): host is Host => host !== null);
  return {
    hosts,
    source: file,
    revision: inventoryRevision(hosts),
    diagnostics: addressWarnings(checked.map(({ entry }) => entry)).sort(byPosition),
  };
}
