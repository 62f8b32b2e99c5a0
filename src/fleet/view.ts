/**
 * One reader's model of the fleet: validated host keys and the policy, updated key by key from watch events
 * (a key is validated once per value) and rebuilt from a snapshot on (re)sync. The inventory and the parsed
 * policy are derived lazily and cached until the next change.
 */
import type { Diagnostic } from '../diagnostics.ts';
import type { Inventory } from '../inventory/types.ts';
import type { LoadedPolicy } from '../policy/load.ts';
import type { Keys } from './keys.ts';
import { decodePolicy } from './policy-record.ts';
import { checkEntry, trustedHosts, type CheckedEntry, type HostEntry } from './published.ts';

export interface Snapshot {
  /** The etcd revision the snapshot was read at. */
  revision: number;
  hosts: HostEntry[];
  /** The `policy` value, or null when none was pushed. */
  policy: string | null;
}

export class FleetView {
  private readonly entries = new Map<string, CheckedEntry>();
  private policyText: string | null = null;
  private inventoryCache: Inventory | null = null;
  private policyCache: { text: string; loaded: LoadedPolicy } | null = null;
  /** The newest etcd revision this view reflects. */
  revision = 0;

  constructor(
    private readonly keys: Keys,
    /** What Inventory.source says. */
    private readonly source: string,
  ) {}

  reset(snapshot: Snapshot): void {
    this.entries.clear();
    for (const entry of snapshot.hosts) this.entries.set(entry.key, checkEntry(entry, this.keys.hosts));
    this.policyText = snapshot.policy;
    this.revision = snapshot.revision;
    this.inventoryCache = null;
  }

  putHost(entry: HostEntry, revision: number): void {
    this.entries.set(entry.key, checkEntry(entry, this.keys.hosts));
    this.touched(revision);
  }

  deleteHost(key: string, revision: number): void {
    this.entries.delete(key);
    this.touched(revision);
  }

  setPolicy(text: string | null, revision: number): void {
    this.policyText = text;
    this.revision = Math.max(this.revision, revision);
  }

  private touched(revision: number): void {
    this.revision = Math.max(this.revision, revision);
    this.inventoryCache = null;
  }

  /** Whether a host key is on a lease (has an agent). */
  leased(name: string): boolean | undefined {
    return this.entries.get(this.keys.host(name))?.entry.leased;
  }

  inventory(): Inventory {
    if (this.inventoryCache === null) {
      const { hosts, revision, diagnostics } = trustedHosts(this.entries.values());
      this.inventoryCache = { hosts, source: this.source, revision, diagnostics };
    }
    return this.inventoryCache;
  }

  /** The pushed policy, validated; null when none was pushed. Throws an InputError when it is not valid. */
  policy(): LoadedPolicy | null {
    if (this.policyText === null) return null;
    if (this.policyCache?.text !== this.policyText) this.policyCache = { text: this.policyText, loaded: decodePolicy(this.policyText, this.keys.policy) };
    return this.policyCache.loaded;
  }

  diagnostics(): Diagnostic[] {
    return this.inventory().diagnostics;
  }
}
