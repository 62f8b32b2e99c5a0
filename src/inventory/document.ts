/** Parses an inventory document (YAML, JSON, or a knife search JSON) into a validated Inventory. */
import { InputError, error, type Diagnostic } from '../diagnostics.ts';
import { unresolvedAliases, yamlErrors } from '../source-text.ts';
import { chefNodeToHost } from './chef.ts';
import { knownHostPositions } from './by-name.ts';
import { DuplicateNames, addressWarnings } from './cross-host.ts';
import { addressOrigin, checkHost } from './host.ts';
import { jsonDepth } from './json-rows.ts';
import { JsonEntryPlaces, fixedLocator, lazyYamlLocators, parsePositioned, positionOf, yamlLocator, type Locator, type PositionedYaml } from './locate.ts';
import { inventoryRevision } from './revision.ts';
import { plainYaml } from '../plain-yaml.ts';
import { didYouMean } from '../suggest.ts';
import type { Host, Inventory } from './types.ts';

/** The host entries of a document before validation: each raw value, and where its parts were written (found when asked). */
interface Entries {
  raws: readonly unknown[];
  locate(index: number): Locator;
  /** Hosts find where they were written only when asked (a text read without positions: it takes a scan, or a parse, of the whole text). */
  lazyOrigins?: boolean;
  /** Read by JSON.parse: each entry knows only where it starts. */
  json?: boolean;
  /** Read by js-yaml: the positioned parse its entries locate with, made when first asked. */
  positioned?: () => PositionedYaml;
}

const TOP_LEVEL = ['hosts'];
/**
 * JSON nested deeper than this is not read again by the positioned parser, whose recursion it would exhaust:
 * its errors point at where their hosts start.
 */
const POSITIONED_DEPTH = 256;
const SHAPES = 'expected `hosts:` with a list of hosts, a bare list of hosts, or a `knife search node -F json` document with `rows`';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function byPosition(a: Diagnostic, b: Diagnostic): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0);
}

/** Where a document read without positions keeps its hosts: `hosts` alone, a bare list, or knife's `rows`; null for any other shape. */
function hostList(value: unknown): { key: 'hosts' | 'rows' | null; list: unknown[] } | null {
  const key = Array.isArray(value) ? null : !isRecord(value) ? undefined : 'hosts' in value ? 'hosts' : 'rows';
  const list: unknown = key === null ? value : key === undefined ? undefined : (value as Record<string, unknown>)[key];
  if (!Array.isArray(list) || key === undefined || (key === 'hosts' && Object.keys(value as object).length !== 1)) return null;
  return { key, list };
}

function jsonValue(text: string): { value: unknown } | null {
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return null;
  try {
    return { value: JSON.parse(text) };
  } catch {
    return null;
  }
}

/**
 * Host entries of a document read without positions, many times faster and smaller than the positioned parse:
 * JSON with JSON.parse (a fleet's inventory is large), YAML with js-yaml (src/plain-yaml.ts). Each entry finds
 * where it was written only when a diagnostic asks: a JSON host where it starts, a YAML one by parsing the text
 * again with positions. null when the text is neither, or not one of the shapes (the positioned parse then
 * reports why).
 */
function fastEntries(text: string, file: string): Entries | null {
  const json = jsonValue(text);
  if (json !== null) {
    const found = hostList(json.value);
    if (found === null) return null;
    const places = new JsonEntryPlaces(text, found.key, file);
    return { raws: found.key === 'rows' ? found.list.map((row: unknown) => chefNodeToHost(row)) : found.list, locate: (i) => places.locator(i), lazyOrigins: true, json: true };
  }
  const plain = plainYaml(text);
  const found = plain === null ? null : hostList(plain.value);
  if (found === null) return null;
  const { locators, positioned } = lazyYamlLocators(text, file);
  if (found.key === 'rows') {
    /* A knife row is placed where it starts, as the positioned parse places it. */
    const rows = locators(['rows']);
    return { raws: found.list.map((row: unknown) => chefNodeToHost(row)), locate: (i) => ({ at: () => rows.at([i]), key: () => rows.at([i]) }), lazyOrigins: true, positioned };
  }
  const root = found.key === null ? [] : [found.key];
  return { raws: found.list, locate: (i) => locators([...root, i]), lazyOrigins: true, positioned };
}

const noEntries = (file: string): Entries => ({ raws: [], locate: () => fixedLocator({ file, line: 1, col: 1 }) });

/** Host entries of a YAML (or JSON) document parsed with positions, or the errors that keep it from having any. */
function yamlEntries({ doc, lines }: PositionedYaml, file: string): { entries: Entries; errors: Diagnostic[] } {
  const at = (offset: number) => positionOf(offset, lines, file);
  if (doc.errors.length > 0) {
    return { entries: noEntries(file), errors: yamlErrors(doc.errors).map((e) => error(`YAML syntax: ${e.message}`, at(e.offset))) };
  }
  const aliases = unresolvedAliases(doc, lines, file);
  if (aliases.length > 0) return { entries: noEntries(file), errors: aliases };
  const root = yamlLocator(doc, lines, file);
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (cause) {
    return { entries: noEntries(file), errors: [error(cause instanceof Error ? cause.message : String(cause), root.at([]))] };
  }
  const hostsAt = (raws: unknown[], path: string[]): Entries => ({ raws, locate: (i) => yamlLocator(doc, lines, file, [...path, i]) });
  const rowsAt = (rows: unknown[]): Entries => ({ raws: rows.map((row) => chefNodeToHost(row)), locate: (i) => fixedLocator(root.at(['rows', i])) });
  if (Array.isArray(value)) return { entries: hostsAt(value, []), errors: [] };
  if (isRecord(value) && !('hosts' in value) && 'rows' in value) {
    const rows = value['rows'];
    if (!Array.isArray(rows)) return { entries: noEntries(file), errors: [error('`rows` of a knife search document must be a list of nodes', root.at(['rows']))] };
    return { entries: rowsAt(rows), errors: [] };
  }
  if (!isRecord(value) || !('hosts' in value)) return { entries: noEntries(file), errors: [error(`no hosts: ${SHAPES}`, root.at([]))] };
  const errors = Object.keys(value)
    .filter((key) => !TOP_LEVEL.includes(key))
    .map((key) => error(`unknown top-level field "${key}"${didYouMean(key, TOP_LEVEL)}: ${SHAPES}`, root.key([key])));
  const hosts = value['hosts'] ?? [];
  if (!Array.isArray(hosts)) return { entries: noEntries(file), errors: [...errors, error('`hosts` must be a list of hosts', root.at(['hosts']))] };
  return { entries: hostsAt(hosts, ['hosts']), errors };
}

/** What validating every entry found. */
interface Checked {
  hosts: Host[];
  /** Errors of the entries, then names taken twice. */
  errors: Diagnostic[];
  /** Warnings of the entries. */
  warnings: Diagnostic[];
  /** Each name's first entry. */
  names: ReadonlyMap<string, number>;
}

/**
 * Validates every entry and that no name is taken twice; `firstErrorOnly`: stop at the first error (a JSON
 * document with an error is read again by the positioned parser). Nothing of an entry outlives its check but its host.
 */
function checkEntries({ raws, locate, lazyOrigins = false }: Entries, firstErrorOnly: boolean): Checked {
  const duplicates = new DuplicateNames((i) => locate(i).at(['name']));
  const hosts: Host[] = [];
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  for (let i = 0; i < raws.length; i++) {
    const at = locate(i);
    const entry = checkHost(raws[i], at, lazyOrigins ? null : at.at([]));
    duplicates.add(entry.name, i);
    if (entry.host !== null) hosts.push(entry.host);
    for (const diagnostic of entry.diagnostics) errors.push(diagnostic);
    for (const diagnostic of entry.warnings) warnings.push(diagnostic);
    if (firstErrorOnly && errors.length + duplicates.errors.length > 0) break;
  }
  return { hosts, errors: [...errors, ...duplicates.errors], warnings, names: duplicates.firstByName };
}

/**
 * The entries of a document, validated: as JSON.parse read them when it can and they hold no error; else as
 * the positioned parser reads them, so that every error points at its line and column (JSON nested deeper
 * than that parser goes keeps its errors at where their hosts start).
 */
function validatedEntries(text: string, file: string): { entries: Entries; checked: Checked } {
  const fast = fastEntries(text, file);
  if (fast !== null) {
    const checked = checkEntries(fast, true);
    if (checked.errors.length === 0) return { entries: fast, checked };
    if (fast.json === true && jsonDepth(text) > POSITIONED_DEPTH) return { entries: fast, checked: checkEntries(fast, false) };
  }
  /* A document read by js-yaml whose entries have already asked for positions is not parsed again. */
  const positioned = yamlEntries(fast?.positioned?.() ?? parsePositioned(text), file);
  const checked = checkEntries(positioned.entries, false);
  /* JSON that the positioned parser refuses (keys written twice): its hosts' errors too, at where each starts. */
  const unread = fast?.json === true && positioned.errors.length > 0 && positioned.entries.raws.length === 0 ? fast : null;
  checked.errors = [...positioned.errors, ...(unread === null ? checked.errors : checkEntries(unread, false).errors)];
  return { entries: positioned.entries, checked };
}

/** An inventory whose revision is computed when first read, and its warnings too when they come as a function. */
function inventoryOf(hosts: Host[], source: string, warnings: Diagnostic[] | (() => Diagnostic[])): Inventory {
  let found = typeof warnings === 'function' ? undefined : warnings;
  let later = typeof warnings === 'function' ? warnings : undefined;
  let revision: string | undefined;
  return {
    hosts,
    source,
    get revision(): string {
      revision ??= inventoryRevision(hosts);
      return revision;
    },
    get diagnostics(): Diagnostic[] {
      if (found === undefined) {
        found = later?.() ?? [];
        later = undefined;
      }
      return found;
    },
  };
}

/**
 * The warnings of a document read without positions, found when asked: a JSON document's place every part of a
 * host where the host starts, so nothing of the entries is kept; a YAML document's find each address where it
 * was written.
 */
function laterWarnings(hosts: readonly Host[], warnings: readonly Diagnostic[], { raws, locate, json }: Entries): () => Diagnostic[] {
  const origin = json === true ? () => undefined : (i: number, address: string) => addressOrigin(raws[i], locate(i), address);
  return () => [...warnings, ...addressWarnings(hosts, origin)].sort(byPosition);
}

/**
 * Parses and validates a whole inventory document; throws InputError with every error in it. The revision is
 * computed when first read, and so are a JSON document's warnings about addresses across hosts (its hosts'
 * positions too): compiling one host of a large fleet reads neither. A positioned parse's document is large:
 * its warnings are found at once, so that it is not kept.
 */
export function parseInventoryDocument(text: string, file: string): Inventory {
  const { entries, checked } = validatedEntries(text, file);
  if (checked.errors.length > 0) throw new InputError(checked.errors.sort(byPosition));
  /* No error: every entry is a host, and no name is written twice. */
  const { hosts, warnings } = checked;
  knownHostPositions(hosts, checked.names);
  if (entries.lazyOrigins === true) return inventoryOf(hosts, file, laterWarnings(hosts, warnings, entries));
  const { raws, locate } = entries;
  return inventoryOf(hosts, file, [...warnings, ...addressWarnings(hosts, (i, address) => addressOrigin(raws[i], locate(i), address))].sort(byPosition));
}
