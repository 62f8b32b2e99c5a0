/**
 * One reader's model of the fleet: registrations, observations and address claims, updated key by key from
 * watch events (a value is validated once) and rebuilt from a snapshot on (re)sync. The inventory and the
 * parsed policy are derived lazily and cached until the next change.
 */
import { warning, type Diagnostic } from '../diagnostics.ts';
import type { Host, Inventory } from '../inventory/types.ts';
import type { LoadedPolicy } from '../policy/load.ts';
import { memberKey, nameUnder, type Keys } from './keys.ts';
import { decodeCandidate, type Candidate } from './candidate.ts';
import { decodePolicy } from './policy-record.ts';
import { checkObservation, checkRegistration, claimAddress, trustedHosts, type Checked, type KeyEntry, type Observation, type Registration, type TrustedFleet } from './published.ts';

export interface Snapshot {
  /** The etcd revision the snapshot was read at. */
  revision: number;
  /** Every key under `hosts/` and `members/`. */
  hosts: KeyEntry[];
  /** The `policy` value, or null when none was pushed. */
  policy: string | null;
  /** The `policy-candidate` value, or null when no canary rollout runs. */
  candidate?: string | null;
}

/** What happened to one key, for the caller's log. */
export type KeyChange = { kind: 'registration' | 'observation' | 'claim'; name: string } | { kind: 'rejected'; diagnostic: Diagnostic } | null;

/** The addresses a registration pins (its `interfaces`). */
const pinned = (checked: Checked<Registration> | undefined): string[] => Object.values(checked?.value?.host.interfaces ?? {}).flat();

export class FleetView {
  private readonly registrations = new Map<string, Checked<Registration>>();
  private readonly observations = new Map<string, Checked<Observation>>();
  private readonly claims = new Map<string, Map<string, number>>();
  /** Address -> the hosts that pin (registration) or claim it: who keeps a shared one is decided fleet-wide. */
  private readonly holders = new Map<string, Set<string>>();
  /** Keys under hosts/ or members/ that are none of the above, with why. */
  private readonly strays = new Map<string, Diagnostic>();
  private policyText: string | null = null;
  private candidateText: string | null = null;
  private candidateCache: { text: string; loaded: LoadedPolicy } | null = null;
  private trustedCache: TrustedFleet | null = null;
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
    this.registrations.clear();
    this.observations.clear();
    this.claims.clear();
    this.holders.clear();
    this.strays.clear();
    for (const entry of snapshot.hosts) this.apply(entry);
    this.policyText = snapshot.policy;
    this.candidateText = snapshot.candidate ?? null;
    this.revision = snapshot.revision;
    this.invalidate();
  }

  /** A put under hosts/ or members/. */
  putKey(entry: KeyEntry, revision: number): KeyChange {
    const change = this.apply(entry);
    this.touched(revision);
    return change;
  }

  deleteKey(key: string, revision: number): KeyChange {
    const change = this.remove(key);
    this.touched(revision);
    return change;
  }

  private apply(entry: KeyEntry): KeyChange {
    const host = nameUnder(entry.key, this.keys.hosts);
    if (host !== null) {
      const checked = checkRegistration(entry, host);
      this.unpin(host);
      this.registrations.set(host, checked);
      for (const address of pinned(checked)) this.hold(address, host);
      return checked.value === null ? { kind: 'rejected', diagnostic: checked.diagnostics[0] as Diagnostic } : { kind: 'registration', name: host };
    }
    const member = memberKey(entry.key, this.keys);
    if (member !== null && member.address === null) {
      const checked = checkObservation(entry, member.name);
      this.observations.set(member.name, checked);
      return checked.value === null ? { kind: 'rejected', diagnostic: checked.diagnostics[0] as Diagnostic } : { kind: 'observation', name: member.name };
    }
    if (member !== null && member.address !== null && claimAddress(member.address) !== null) {
      let claims = this.claims.get(member.name);
      if (claims === undefined) this.claims.set(member.name, (claims = new Map()));
      claims.set(member.address, entry.createRevision);
      this.hold(member.address, member.name);
      return { kind: 'claim', name: member.name };
    }
    const diagnostic = warning('rejected, not trusted: not a hosts/<name>, members/<name> or members/<name>/<address> key', { file: entry.key });
    this.strays.set(entry.key, diagnostic);
    return { kind: 'rejected', diagnostic };
  }

  private remove(key: string): KeyChange {
    const host = nameUnder(key, this.keys.hosts);
    if (host !== null) {
      this.unpin(host);
      return this.registrations.delete(host) ? { kind: 'registration', name: host } : null;
    }
    const member = memberKey(key, this.keys);
    if (member !== null && member.address === null) return this.observations.delete(member.name) ? { kind: 'observation', name: member.name } : null;
    if (member !== null && member.address !== null) {
      const claims = this.claims.get(member.name);
      if (claims?.delete(member.address) !== true) return null;
      if (!pinned(this.registrations.get(member.name)).includes(member.address)) this.release(member.address, member.name);
      if (claims.size === 0) this.claims.delete(member.name);
      return { kind: 'claim', name: member.name };
    }
    this.strays.delete(key);
    return null;
  }

  private hold(address: string, name: string): void {
    let names = this.holders.get(address);
    if (names === undefined) this.holders.set(address, (names = new Set()));
    names.add(name);
  }

  private release(address: string, name: string): void {
    const names = this.holders.get(address);
    names?.delete(name);
    if (names?.size === 0) this.holders.delete(address);
  }

  /** Before a host's registration is replaced or removed: its pinned addresses, unless it also claims them. */
  private unpin(name: string): void {
    const claims = this.claims.get(name);
    for (const address of pinned(this.registrations.get(name))) if (claims?.has(address) !== true) this.release(address, name);
  }

  /**
   * One host's trusted record computed from its own keys alone (null: not in the fleet), and whether that could
   * differ from the fleet-wide answer: an address of it, or of `before` (what a reader took into account last),
   * that another host pins or claims too. O(its keys), whatever the fleet's size.
   */
  isolated(name: string, before: Host | null): { host: Host | null; contested: boolean } {
    const registration = this.registrations.get(name);
    const observation = this.observations.get(name);
    const claims = this.claims.get(name);
    const alone = trustedHosts({
      registrations: registration === undefined ? [] : [registration],
      observations: new Map(observation === undefined ? [] : [[name, observation]]),
      claims: new Map(claims === undefined ? [] : [[name, claims]]),
    });
    const addresses = [...pinned(registration), ...(claims?.keys() ?? []), ...Object.values(before?.interfaces ?? {}).flat()];
    const contested = addresses.some((address) => [...(this.holders.get(address) ?? [])].some((holder) => holder !== name));
    return { host: alone.hosts[0] ?? null, contested };
  }

  setPolicy(text: string | null, revision: number): void {
    this.policyText = text;
    this.revision = Math.max(this.revision, revision);
  }

  setCandidate(text: string | null, revision: number): void {
    this.candidateText = text;
    this.revision = Math.max(this.revision, revision);
  }

  /** The canary rollout running, if any (a value that is not a candidate counts as none). */
  candidate(): Candidate | null {
    return this.candidateText === null ? null : decodeCandidate(this.candidateText);
  }

  /** The candidate policy when `host` is one of its canaries, validated; null otherwise. Throws an InputError when it is not valid. */
  candidateFor(host: string): LoadedPolicy | null {
    const candidate = this.candidate();
    if (candidate === null || !candidate.canaries.includes(host)) return null;
    if (this.candidateCache?.text !== candidate.policy) this.candidateCache = { text: candidate.policy, loaded: decodePolicy(candidate.policy, this.keys.candidate) };
    return this.candidateCache.loaded;
  }

  private touched(revision: number): void {
    this.revision = Math.max(this.revision, revision);
    this.invalidate();
  }

  private invalidate(): void {
    this.trustedCache = null;
    this.inventoryCache = null;
  }

  /** Whether `name` has an observation (its agent's membership lease still runs). */
  observed(name: string): boolean {
    return this.observations.has(name);
  }

  /** The version the host's agent published, if any. */
  observation(name: string): Observation | null {
    return this.observations.get(name)?.value ?? null;
  }

  /** The host's address claims (address -> claim revision). */
  claimsOf(name: string): ReadonlyMap<string, number> {
    return this.claims.get(name) ?? new Map();
  }

  trusted(): TrustedFleet {
    this.trustedCache ??= trustedHosts({ registrations: this.registrations.values(), observations: this.observations, claims: this.claims });
    return this.trustedCache;
  }

  inventory(): Inventory {
    if (this.inventoryCache === null) {
      const { hosts, revision, diagnostics } = this.trusted();
      this.inventoryCache = { hosts, source: this.source, revision, diagnostics: [...diagnostics, ...this.strays.values()] };
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
