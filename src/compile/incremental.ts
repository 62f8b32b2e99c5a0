/**
 * One host's ruleset kept current without recompiling it (issue 15): the compiler of its last compile says what
 * each of its sets selects; another host's join, leave or change is then either irrelevant (no set selects it,
 * before or after: dropped, nothing to do) or a few set-element additions and deletions computed from that
 * host's record alone. What a delta cannot express asks for a recompile: the compiled host itself, a host
 * that a rule names (a name resolves differently once it is an inventory host), a set holding networks
 * (an address may lie inside one), an address another host also holds (who keeps it is decided fleet-wide).
 * Pure: the caller reads the host's trusted record (src/fleet/view.ts `isolated`).
 */
import ipaddr from 'ipaddr.js';
import { InternalError } from '../diagnostics.ts';
import type { Host } from '../inventory/types.ts';
import { HostIndex } from '../query/host-index.ts';
import { rulesetInventoryRevision, type FleetCompiler, type SetSource } from './compile.ts';
import type { Family, IrSet, Ruleset } from './ir.ts';

/** What a change of another host means for this ruleset. */
export type Relevance = 'irrelevant' | 'elements' | 'recompile';

/** A host's trusted record taken alone, and whether any of its addresses (now or `before`) is held by another host too. */
export interface Isolated {
  host: Host | null;
  contested: boolean;
}

const addressKey = (text: string): bigint => {
  let value = 0n;
  for (const byte of ipaddr.parse(text).toByteArray()) value = (value << 8n) | BigInt(byte);
  return value;
};

/** The position of `address` in sorted single-address elements, or where it would go (as a negative: -(position + 1)). */
function search(elements: readonly string[], address: string): number {
  const key = addressKey(address);
  let low = 0;
  let high = elements.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const other = addressKey(elements[middle] as string);
    if (other === key) return middle;
    if (other < key) low = middle + 1;
    else high = middle - 1;
  }
  return -(low + 1);
}

/** Sorted single-address elements with the changes made (address -> whether it is in the set). */
export function changeElements(elements: readonly string[], changes: ReadonlyMap<string, boolean>): string[] {
  const out = [...elements];
  for (const [address, present] of changes) {
    const at = search(out, address);
    if (present && at < 0) out.splice(-at - 1, 0, address);
    else if (!present && at >= 0) out.splice(at, 1);
  }
  return out;
}

function addressesOf(host: Host | null, family: Family): readonly string[] {
  return host === null ? [] : family === 4 ? host.addresses.v4 : host.addresses.v6;
}

export class IncrementalRuleset {
  /** Hosts changed since the compile: name -> trusted record (null: gone). */
  private readonly changed = new Map<string, Host | null>();
  /** Set name -> address -> whether it must be in the set, not yet in `ruleset`. */
  private readonly pending = new Map<string, Map<string, boolean>>();
  private readonly sources: Array<{ name: string; source: SetSource }>;
  /** Lower-cased host names the rules name as peers. */
  private readonly named = new Set<string>();
  private ruleset: Ruleset;

  constructor(
    private readonly compiler: FleetCompiler,
    ruleset: Ruleset,
    private readonly self: Host,
  ) {
    this.ruleset = ruleset;
    this.sources = ruleset.sets.map((set) => {
      const source = compiler.setSource(set.name);
      if (source === undefined) throw new InternalError(`set ${set.name} was not built by this compiler`);
      for (const peer of source.peers) if (peer.kind === 'hostname') this.named.add(peer.name.toLowerCase());
      return { name: set.name, source };
    });
  }

  /** The host's record as this ruleset last took it into account. */
  private before(name: string): Host | null {
    return this.changed.has(name) ? (this.changed.get(name) ?? null) : (this.compiler.host(name) ?? null);
  }

  /** Indexes of the sources that select the host. */
  private selecting(host: Host | null): Set<number> {
    const selected = new Set<number>();
    if (host === null) return selected;
    const index = new HostIndex([host]);
    this.sources.forEach(({ source }, i) => {
      const context = { environment: source.scope.environment, self: source.scope.sametag === null ? null : this.self };
      if (source.peers.some((p) => p.kind === 'query' && index.evaluate(p.query, context).has(0))) selected.add(i);
    });
    return selected;
  }

  /**
   * Another host changed (`name`; `isolate` reads its trusted record now, given the record taken into account
   * before). Irrelevant: no set's elements change. Elements: the set changes are pending until `update`. Recompile: this
   * object cannot follow; compile again.
   */
  note(name: string, isolate: (before: Host | null) => Isolated): Relevance {
    if (name === this.self.name || this.named.has(name.toLowerCase())) return 'recompile';
    const before = this.before(name);
    const { host: after, contested } = isolate(before);
    if (contested) return 'recompile';
    this.changed.set(name, after);
    const was = this.selecting(before);
    const is = this.selecting(after);
    let changed = false;
    for (const i of new Set([...was, ...is])) {
      const { name: set, source } = this.sources[i] as { name: string; source: SetSource };
      const old = was.has(i) ? addressesOf(before, source.family) : [];
      const now = is.has(i) ? addressesOf(after, source.family) : [];
      const gone = old.filter((address) => !now.includes(address) && !source.fixed.includes(address));
      if (gone.length === 0 && now.every((address) => old.includes(address))) continue;
      if (source.interval) return 'recompile';
      let changes = this.pending.get(set);
      if (changes === undefined) this.pending.set(set, (changes = new Map()));
      for (const address of gone) changes.set(address, false);
      for (const address of now) changes.set(address, true);
      changed = true;
    }
    /* Selected, but no address of it enters or leaves a set (a registration before its agent's first claim). */
    return changed ? 'elements' : 'irrelevant';
  }

  /** The ruleset with every pending change made (the same object when none is pending). */
  update(): Ruleset {
    if (this.pending.size === 0) return this.ruleset;
    const sets = this.ruleset.sets.map((set): IrSet => {
      const changes = this.pending.get(set.name);
      return changes === undefined ? set : { ...set, elements: changeElements(set.elements, changes) };
    });
    this.pending.clear();
    this.ruleset = { ...this.ruleset, sets, inventoryRevision: rulesetInventoryRevision(this.self, sets) };
    return this.ruleset;
  }
}
