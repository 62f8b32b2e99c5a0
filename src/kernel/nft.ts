/**
 * The nftables backend: `table inet palisade` replaced in one `nft -f` transaction (add, delete, define),
 * membership changes as `add element` / `delete element` in one transaction, and a canonical JSON listing.
 */
import { containerNotes } from './containers.ts';
import type { Ruleset } from '../compile/ir.ts';
import { diffRulesets, membersChanged } from '../compile/diff.ts';
import { isMeterName, NFT_FAMILY, NFT_TABLE } from '../layout.ts';
import { renderNft } from '../render/nft.ts';
import type { Backend } from './backend.ts';
import { nftCounters, type ChainCounters } from './counters.ts';
import { execTool, runTool, runToolResult, type Target } from './exec.ts';
import { generationWatch, watchGeneration } from './nft-generation.ts';

const TABLE = `${NFT_FAMILY} ${NFT_TABLE}`;
/** Elements per `add element` command: keeps lines short without multiplying commands. */
const ELEMENTS_PER_COMMAND = 1000;

/** `add` creates the table if absent so `delete` cannot fail; the definition follows in the same transaction. */
export function nftLoadScript(rs: Ruleset): string {
  return `add table ${TABLE}\ndelete table ${TABLE}\n${renderNft(rs)}`;
}

export function nftRemoveScript(): string {
  return `add table ${TABLE}\ndelete table ${TABLE}\n`;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Deletions first, so an interval replaced by an overlapping one never collides. Empty when nothing changes. */
export function nftMembershipScript(before: Ruleset, after: Ruleset): string {
  const diff = diffRulesets(before, after);
  if (!diff.membershipOnly) throw new Error('not a membership-only change');
  const lines: string[] = [];
  const emit = (verb: 'add' | 'delete', changes: Record<string, string[]>): void => {
    for (const name of Object.keys(changes).sort()) {
      for (const part of chunks(changes[name] ?? [], ELEMENTS_PER_COMMAND)) lines.push(`${verb} element ${TABLE} ${name} { ${part.join(', ')} }`);
    }
  };
  emit('delete', diff.elementsRemoved);
  emit('add', diff.elementsAdded);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Handles and counter values are the kernel's, not the ruleset's; set elements come in hash order. The elements
 * of a rate limit's meter (a dynamic set) are the packet path's, added as traffic comes: never drift (nft's JSON
 * does not say a set is dynamic, so the meter is known by its name).
 */
function normalise(value: Json): Json {
  if (Array.isArray(value)) return value.map(normalise);
  if (value === null || typeof value !== 'object') return value;
  const dynamic = typeof value.name === 'string' && isMeterName(value.name);
  const out: { [key: string]: Json } = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'handle' || (key === 'elem' && dynamic)) continue;
    if (key === 'counter') out[key] = null;
    else if (key === 'elem' && Array.isArray(inner)) out[key] = inner.map(normalise).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
    else out[key] = normalise(inner);
  }
  return out;
}

async function listJson(target: Target): Promise<Json[] | null> {
  const result = await execTool(target, 'nft', ['-j', 'list', 'table', ...TABLE.split(' ')]);
  if (result.code !== 0) {
    if (/No such file or directory/.test(result.stderr)) return null;
    await runTool(target, 'nft', ['-j', 'list', 'table', ...TABLE.split(' ')], undefined, `listing table ${TABLE}`);
  }
  const parsed = JSON.parse(result.stdout) as { nftables?: Json[] };
  return (parsed.nftables ?? []).filter((item) => !(item !== null && typeof item === 'object' && !Array.isArray(item) && 'metainfo' in item));
}

/** An IR set element as the canonical listing has it: a bare address, or a network as a prefix (JSON text). */
function elementText(element: string): string {
  const slash = element.indexOf('/');
  return slash < 0 ? JSON.stringify(element) : JSON.stringify({ prefix: { addr: element.slice(0, slash), len: Number(element.slice(slash + 1)) } });
}

/** The element texts of a listed set's `elem` array: quoted addresses and prefix objects, nothing nested deeper. */
const ELEMENT_TEXT = /"[^"]*"|\{"prefix":\{"addr":"[^"]*","len":\d+\}\}/g;

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Two lists sorted by byText, merged into one. */
function merge(sorted: readonly string[], more: readonly string[]): string[] {
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < sorted.length || j < more.length) {
    if (j >= more.length || (i < sorted.length && byText(sorted[i] as string, more[j] as string) <= 0)) out.push(sorted[i++] as string);
    else out.push(more[j++] as string);
  }
  return out;
}

/**
 * A listed set line with its elements replaced, sorted as normalise() sorts them (by their JSON text): the
 * listed elements are sorted already, so the added ones are merged in rather than the whole list sorted again.
 */
function patchSetLine(line: string, removed: readonly string[], added: readonly string[]): string {
  const at = line.indexOf(',"elem":[');
  const head = at < 0 ? line.slice(0, -2) : line.slice(0, at);
  const gone = new Set(removed.map(elementText));
  const kept = at < 0 ? [] : (line.slice(at + ',"elem":['.length, -3).match(ELEMENT_TEXT) ?? []).filter((e) => !gone.has(e));
  const elements = merge(kept, added.map(elementText).sort(byText));
  return elements.length === 0 ? `${head}}}` : `${head},"elem":[${elements.join(',')}]}}`;
}

/** The set a listing line defines, if its members can be patched: a set's line ends with its elements (`nft -j` puts `elem` last and leaves it out when empty). */
function patchableSet(line: string): string | undefined {
  const name = /^\{"set":\{"family":"[^"]*","name":"([^"]*)"/.exec(line)?.[1];
  return name !== undefined && line.endsWith('}}') ? name : undefined;
}

/**
 * The sets nftListingAfterMembership can patch in this listing: each has one line of its own. A listing derived
 * from it has the same lines but for their elements: the same sets.
 */
export function nftPatchableSets(listing: string): Set<string> {
  const lines = new Map<string, number>();
  for (const line of listing.split('\n')) {
    const name = patchableSet(line);
    if (name !== undefined) lines.set(name, (lines.get(name) ?? 0) + 1);
  }
  return new Set([...lines].filter(([, n]) => n === 1).map(([name]) => name));
}

/**
 * The canonical listing after a membership-only change, derived from the listing before it (which the kernel
 * held) and the change, without listing the kernel again; null when a changed set is not in it. Text-level.
 * A set's listed elements are the ruleset's, sorted: deriving over several changes at once, from the first
 * ruleset to the last, gives what deriving change by change gives.
 */
export function nftListingAfterMembership(listing: string, before: Ruleset, after: Ruleset): string | null {
  const diff = diffRulesets(before, after);
  const changed = new Set(membersChanged(diff));
  let patched = 0;
  const lines = listing.split('\n').map((line) => {
    const name = patchableSet(line);
    if (name === undefined || !changed.has(name)) return line;
    patched += 1;
    return patchSetLine(line, diff.elementsRemoved[name] ?? [], diff.elementsAdded[name] ?? []);
  });
  return patched === changed.size ? lines.join('\n') : null;
}

export class NftBackend implements Backend {
  readonly name = 'nft' as const;

  constructor(readonly target: Target) {}

  render(rs: Ruleset): string {
    return nftLoadScript(rs);
  }

  async check(rs: Ruleset): Promise<void> {
    await runTool(this.target, 'nft', ['-c', '-f', '-'], nftLoadScript(rs), 'nft -c (validating the ruleset)');
  }

  /** One `nft -f` transaction; with a generation watch, returns once the watch saw it. */
  private async transaction(script: string, doing: string): Promise<void> {
    const watch = generationWatch(this.target);
    const since = watch?.mark() ?? null;
    const { pid } = await runToolResult(this.target, 'nft', ['-f', '-'], script, doing);
    if (watch !== undefined && since !== null) await watch.sawChangeBy(pid, since);
  }

  async load(rs: Ruleset): Promise<string[]> {
    const script = nftLoadScript(rs);
    await runTool(this.target, 'nft', ['-c', '-f', '-'], script, 'nft -c (validating the ruleset)');
    await this.transaction(script, 'nft -f (loading the ruleset)');
    return containerNotes(this.target, rs);
  }

  /** One atomic `nft -f` of element deletions and additions: nothing to validate first, a refusal changes nothing. */
  async updateMembership(before: Ruleset, after: Ruleset): Promise<void> {
    const script = nftMembershipScript(before, after);
    if (script === '') return;
    await this.transaction(script, 'nft -f (updating set elements)');
  }

  async watch(): Promise<void> {
    await watchGeneration(this.target);
  }

  generation(): number | null {
    return generationWatch(this.target)?.mark() ?? null;
  }

  async remove(): Promise<void> {
    await runTool(this.target, 'nft', ['-f', '-'], nftRemoveScript(), `removing table ${TABLE}`);
  }

  async listing(): Promise<string | null> {
    const items = await listJson(this.target);
    return items === null ? null : items.map((item) => JSON.stringify(normalise(item))).join('\n');
  }

  async counters(): Promise<ChainCounters[]> {
    return nftCounters((await listJson(this.target)) ?? []);
  }
}
