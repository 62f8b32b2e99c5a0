/**
 * What readers trust of the fleet's keys (docs/fleet.md). Identity is the admin's: roles, tags, environment,
 * attributes, pinned addresses and the networks a host may claim addresses in come only from its registration
 * `hosts/<name>`, written without a lease. Observations are the agent's: `members/<name>` (addresses, lan,
 * users, version) on its membership lease, and one claim key `members/<name>/<address>` per address, whose
 * etcd create revision is the moment of the claim. Every value is hostile until checked: a value larger than
 * MAX_VALUE_BYTES is not even parsed; an observed address counts only inside the registration's networks,
 * with a claim, and at most `max_addresses` of them (the oldest claims). An address two hosts claim goes to
 * the pinned one, else to the first claim; the other host keeps its other addresses. An observation
 * without a registration is "unregistered": in no set. Every rejection is a warning naming its key.
 */
import ipaddr from 'ipaddr.js';
import { warning, type Diagnostic } from '../diagnostics.ts';
import { sha256 } from '../hash.ts';
import { parseHostAddress } from '../inventory/address.ts';
import { checkHost, deriveAddresses, HOST_FIELDS } from '../inventory/host.ts';
import { fixedLocator } from '../inventory/locate.ts';
import { nameProblem } from '../inventory/names.ts';
import { AddressBook } from '../inventory/ownership.ts';
import { canonicalJson } from '../inventory/revision.ts';
import type { Host } from '../inventory/types.ts';
import { DEFAULT_MAX_ADDRESSES } from '../defaults.ts';

/** Largest value a reader parses under `hosts/` or `members/`: a registration or observation is a few hundred bytes. */
export const MAX_VALUE_BYTES = 64 * 1024;
/** The registration fields beyond an inventory host's. */
export const REGISTRATION_FIELDS = ['networks', 'max_addresses', 'agent'] as const;
const OBSERVATION_FIELDS = ['name', 'interfaces', 'lan', 'users', 'version'] as const;

/** One key as read from etcd. */
export interface KeyEntry {
  key: string;
  value: string;
  createRevision: number;
  /** Whether the key is on a lease. */
  leased: boolean;
}

export interface Network {
  text: string;
  range: [ipaddr.IPv4 | ipaddr.IPv6, number];
}

export interface Registration {
  /** Identity and pinned addresses (its `interfaces`). */
  host: Host;
  networks: Network[];
  maxAddresses: number;
  /** Whether an agent is expected to run on the host (fleet status reports a missing one). */
  agent: boolean;
  createRevision: number;
  digest: string;
}

export interface Observation {
  interfaces: Record<string, string[]>;
  lan?: string;
  users: Record<string, number>;
  version?: string;
  digest: string;
}

export type Checked<T> = { key: string; value: T | null; diagnostics: Diagnostic[] };

export interface FleetKeys {
  registrations: Iterable<Checked<Registration>>;
  /** By host name. */
  observations: ReadonlyMap<string, Checked<Observation>>;
  /** By host name: claimed address -> create revision of its claim key. */
  claims: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

export interface Conflict {
  address: string;
  /** Who keeps it, and why. */
  owner: string;
  pinned: boolean;
  /** Who claimed it too and does not get it. */
  loser: string;
}

export interface TrustedFleet {
  hosts: Host[];
  revision: string;
  diagnostics: Diagnostic[];
  conflicts: Conflict[];
  /** Hosts with an observation but no (valid) registration. */
  unregistered: string[];
  /** By host name, for fleet status. */
  registrations: Map<string, Registration>;
}

const rejected = (key: string, why: string, host?: string): Diagnostic =>
  warning(`rejected, not trusted: ${why}`, { file: key, ...(host === undefined ? {} : { host }) });

function parseValue(key: string, value: string, name: string): { raw: Record<string, unknown> } | { diagnostic: Diagnostic } {
  if (value.length > MAX_VALUE_BYTES) return { diagnostic: rejected(key, `${value.length} bytes, more than the ${MAX_VALUE_BYTES} a value may have`, name) };
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch (cause) {
    return { diagnostic: rejected(key, `not JSON (${(cause as Error).message})`, name) };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { diagnostic: rejected(key, 'not a JSON object', name) };
  return { raw: raw as Record<string, unknown> };
}

/** A network of a registration: CIDR or single address, canonical. */
export function parseNetwork(text: unknown): Network | string {
  if (typeof text !== 'string') return `${JSON.stringify(text)} is not a network`;
  try {
    const range = text.includes('/') ? ipaddr.parseCIDR(text) : ([ipaddr.parse(text), text.includes(':') ? 128 : 32] as [ipaddr.IPv4 | ipaddr.IPv6, number]);
    const [address, bits] = range;
    const base = address.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(`${address.toString()}/${bits}`) : ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/${bits}`);
    const canonical = `${address.kind() === 'ipv4' ? base.toString() : (base as ipaddr.IPv6).toRFC5952String()}/${bits}`;
    return { text: canonical, range: [base, bits] };
  } catch {
    return `"${text}" is not a network (expected CIDR such as 10.0.1.0/24, or one address)`;
  }
}

export function inNetworks(address: string, networks: readonly Network[]): boolean {
  const parsed = ipaddr.parse(address);
  return networks.some((n) => n.range[0].kind() === parsed.kind() && parsed.match(n.range));
}

/** Validates one `hosts/<name>` value (cacheable per key and value). */
export function checkRegistration(entry: KeyEntry, name: string): Checked<Registration> {
  const fail = (...diagnostics: Diagnostic[]): Checked<Registration> => ({ key: entry.key, value: null, diagnostics });
  if (entry.leased) return fail(rejected(entry.key, 'a registration is written by an admin, never on an agent lease', name));
  const parsed = parseValue(entry.key, entry.value, name);
  if ('diagnostic' in parsed) return fail(parsed.diagnostic);
  const { networks: rawNetworks, max_addresses: rawMax, agent: rawAgent, lan: rawLan, ...hostFields } = parsed.raw;
  const errors: Diagnostic[] = [];
  /* The lan may name an interface only the agent observes: checked as a name, not against pinned interfaces. */
  const lanProblem = rawLan === undefined ? null : typeof rawLan !== 'string' ? 'not a string' : nameProblem('interface', rawLan);
  if (lanProblem !== null) errors.push(rejected(entry.key, `invalid lan ${JSON.stringify(rawLan)}: ${lanProblem}`, name));
  const networks: Network[] = [];
  for (const text of rawNetworks === undefined ? [] : Array.isArray(rawNetworks) ? rawNetworks : [rawNetworks]) {
    const network = parseNetwork(text);
    if (typeof network === 'string') errors.push(rejected(entry.key, `networks: ${network}`, name));
    else networks.push(network);
  }
  const maxAddresses = rawMax ?? DEFAULT_MAX_ADDRESSES;
  if (typeof maxAddresses !== 'number' || !Number.isInteger(maxAddresses) || maxAddresses < 0 || maxAddresses > 4096) {
    errors.push(rejected(entry.key, `max_addresses must be an integer from 0 to 4096, not ${JSON.stringify(rawMax)}`, name));
  }
  if (rawAgent !== undefined && typeof rawAgent !== 'boolean') errors.push(rejected(entry.key, `agent must be true or false, not ${JSON.stringify(rawAgent)}`, name));
  const pos = { file: entry.key, line: 1, col: 1 };
  const checked = checkHost(hostFields, fixedLocator(pos), pos);
  errors.push(...checked.diagnostics.map((d) => rejected(entry.key, d.message.replace(/^unknown host field "([^"]+)"/, `unknown registration field "$1" (known: ${[...HOST_FIELDS, ...REGISTRATION_FIELDS].join(', ')})`), name)));
  if (checked.host !== null && checked.host.name !== name) errors.push(rejected(entry.key, `the registration names host "${checked.host.name}", not "${name}"`, name));
  if (errors.length > 0 || checked.host === null) return fail(...errors);
  const { origin: _origin, ...host } = checked.host;
  const registration: Registration = {
    host: { ...host, ...(rawLan === undefined ? {} : { lan: rawLan as string }) },
    networks,
    maxAddresses: maxAddresses as number,
    agent: rawAgent === undefined ? networks.length > 0 : (rawAgent as boolean),
    createRevision: entry.createRevision,
    digest: sha256(canonicalJson(parsed.raw)).slice(0, 16),
  };
  return { key: entry.key, value: registration, diagnostics: [] };
}

/** Validates one `members/<name>` value: only what an agent can observe. */
export function checkObservation(entry: KeyEntry, name: string): Checked<Observation> {
  const fail = (...diagnostics: Diagnostic[]): Checked<Observation> => ({ key: entry.key, value: null, diagnostics });
  const parsed = parseValue(entry.key, entry.value, name);
  if ('diagnostic' in parsed) return fail(parsed.diagnostic);
  const unknown = Object.keys(parsed.raw).filter((f) => !(OBSERVATION_FIELDS as readonly string[]).includes(f));
  if (unknown.length > 0) return fail(rejected(entry.key, `an agent publishes only ${OBSERVATION_FIELDS.join(', ')}; not ${unknown.join(', ')} (identity comes from the registration)`, name));
  const { version, ...fields } = parsed.raw;
  if (version !== undefined && (typeof version !== 'string' || version.length > 64)) return fail(rejected(entry.key, 'version must be a short string', name));
  const pos = { file: entry.key, line: 1, col: 1 };
  const checked = checkHost(fields, fixedLocator(pos), pos);
  const errors = checked.diagnostics.map((d) => rejected(entry.key, d.message, name));
  if (checked.host !== null && checked.host.name !== name) errors.push(rejected(entry.key, `the observation names host "${checked.host.name}", not "${name}"`, name));
  if (errors.length > 0 || checked.host === null) return fail(...errors);
  const { interfaces, lan, users } = checked.host;
  return {
    key: entry.key,
    value: { interfaces, ...(lan === undefined ? {} : { lan }), users, ...(version === undefined ? {} : { version: version as string }), digest: sha256(entry.value).slice(0, 16) },
    diagnostics: [],
  };
}

/**
 * The inventory revision of a fleet: a hash of every trusted host's parts in name order. A content hash like
 * inventoryRevision, but linear in the number of changed keys rather than in the fleet's size per change.
 */
export function fleetRevision(parts: readonly string[]): string {
  return sha256(parts.join('\n')).slice(0, 16);
}

interface Candidate {
  name: string;
  ifname: string;
  address: string;
  claimedAt: number;
}

const byName = <T extends { name: string }>(a: T, b: T): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The trusted hosts (sorted by name), their revision, the conflicts and every rejection. */
export function trustedHosts(fleet: FleetKeys): TrustedFleet {
  const diagnostics: Diagnostic[] = [];
  const registrations = new Map<string, Registration>();
  const registrationKeys = new Map<string, string>();
  for (const checked of fleet.registrations) {
    diagnostics.push(...checked.diagnostics);
    if (checked.value !== null) {
      registrations.set(checked.value.host.name, checked.value);
      registrationKeys.set(checked.value.host.name, checked.key);
    }
  }
  const conflicts: Conflict[] = [];
  const book = new AddressBook<{ name: string; pinned: boolean }>();
  const kept = new Map<string, Record<string, string[]>>();
  const lose = (address: string, loser: string, key: string): void => {
    const won = book.owner(address) as { name: string; pinned: boolean };
    conflicts.push({ address, owner: won.name, pinned: won.pinned, loser });
    diagnostics.push(rejected(key, `address ${address} belongs to ${won.name} (${won.pinned ? 'pinned by its registration' : 'claimed first'}): not trusted for ${loser}`, loser));
  };

  /* Pinned addresses first, the earlier registration first. */
  const ordered = [...registrations.values()].sort((a, b) => a.createRevision - b.createRevision || byName(a.host, b.host));
  for (const r of ordered) {
    const interfaces: Record<string, string[]> = {};
    for (const [ifname, addresses] of Object.entries(r.host.interfaces)) {
      interfaces[ifname] = [];
      const pinned = { name: r.host.name, pinned: true };
      for (const address of addresses) {
        if (book.conflicts(pinned, [address]).length > 0) {
          lose(address, r.host.name, registrationKeys.get(r.host.name) as string);
          continue;
        }
        book.claim(pinned, [address]);
        interfaces[ifname].push(address);
      }
    }
    kept.set(r.host.name, interfaces);
  }

  /* Observed addresses: inside the registered networks, claimed, the oldest `maxAddresses` claims; then first claim wins. */
  const unregistered: string[] = [];
  const candidates: Candidate[] = [];
  for (const [name, checked] of fleet.observations) {
    diagnostics.push(...checked.diagnostics);
    if (checked.value === null) continue;
    const r = registrations.get(name);
    if (r === undefined) {
      unregistered.push(name);
      diagnostics.push(warning(`unregistered: host "${name}" has an agent but no registration (hosts/${name}); it is in no set`, { file: checked.key, host: name }));
      continue;
    }
    const claims = fleet.claims.get(name) ?? new Map<string, number>();
    const mine: Candidate[] = [];
    for (const [ifname, addresses] of Object.entries(checked.value.interfaces)) {
      for (const address of addresses) {
        if (r.host.interfaces[ifname]?.includes(address) === true) continue;
        if (!inNetworks(address, r.networks)) {
          diagnostics.push(rejected(checked.key, `address ${address} is outside the networks its registration allows (${r.networks.map((n) => n.text).join(', ') || 'none'})`, name));
          continue;
        }
        const claimedAt = claims.get(address);
        if (claimedAt === undefined) continue;
        mine.push({ name, ifname, address, claimedAt });
      }
    }
    mine.sort((a, b) => a.claimedAt - b.claimedAt || (a.address < b.address ? -1 : 1));
    if (mine.length > r.maxAddresses) {
      diagnostics.push(rejected(checked.key, `${mine.length} addresses observed, at most ${r.maxAddresses} kept (the oldest claims)`, name));
    }
    candidates.push(...mine.slice(0, r.maxAddresses));
  }
  candidates.sort((a, b) => a.claimedAt - b.claimedAt || byName(a, b));
  for (const c of candidates) {
    const claimant = { name: c.name, pinned: false };
    if (book.conflicts(claimant, [c.address]).length > 0) {
      lose(c.address, c.name, fleet.observations.get(c.name)?.key as string);
      continue;
    }
    book.claim(claimant, [c.address]);
    const interfaces = kept.get(c.name) as Record<string, string[]>;
    const list = (interfaces[c.ifname] ??= []);
    if (!list.includes(c.address)) list.push(c.address);
  }

  const hosts: Host[] = [];
  const parts: string[] = [];
  for (const r of [...registrations.values()].sort((a, b) => byName(a.host, b.host))) {
    const name = r.host.name;
    const observation = fleet.observations.get(name)?.value ?? null;
    const interfaces = kept.get(name) as Record<string, string[]>;
    for (const list of Object.values(interfaces)) list.sort();
    /* A declared lan stays the lan even when none of its addresses is trusted: the host then has no address, never another interface's. */
    const lan = r.host.lan ?? observation?.lan;
    if (lan !== undefined) interfaces[lan] ??= [];
    hosts.push({
      ...r.host,
      interfaces,
      ...(lan === undefined ? {} : { lan }),
      users: { ...(observation?.users ?? {}), ...r.host.users },
      addresses: deriveAddresses(interfaces, lan),
    });
    parts.push(`${name}:${r.digest}:${observation?.digest ?? '-'}:${JSON.stringify(interfaces)}:${lan ?? ''}`);
  }
  if (unregistered.length > 0) unregistered.sort();
  return { hosts, revision: fleetRevision(parts), diagnostics, conflicts, unregistered, registrations };
}

/** A claimed address as text, canonical, or null: claim keys name an address after `members/<name>/`. */
export function claimAddress(text: string): string | null {
  const parsed = parseHostAddress(text);
  return parsed.ok && parsed.text === text ? parsed.text : null;
}
