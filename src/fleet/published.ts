/**
 * Host facts read from etcd are untrusted: every reader validates each `hosts/<name>` value like an
 * inventory entry (a network, loopback, multicast or unspecified address is an error), checks that the
 * facts name the host of their key, and rejects, with a warning naming the key, what fails. Two keys
 * claiming one address: the key created first (lower create_revision) keeps it, the later host is rejected
 * whole, so a newcomer can never take over an address rules already trust.
 */
import { sha256 } from '../hash.ts';
import { warning, type Diagnostic } from '../diagnostics.ts';
import { checkHost } from '../inventory/host.ts';
import { fixedLocator } from '../inventory/locate.ts';
import { AddressBook, ownedAddresses } from '../inventory/ownership.ts';
import { canonicalJson } from '../inventory/revision.ts';
import type { Host } from '../inventory/types.ts';
import { nameUnder } from './keys.ts';

/** One `hosts/<name>` key as read from etcd. */
export interface HostEntry {
  key: string;
  value: string;
  createRevision: number;
  /** Whether the key is on a lease (an agent's) or not (a static host from `palisade hosts put`). */
  leased: boolean;
}

export interface CheckedEntry {
  entry: HostEntry;
  host: Host | null;
  /** sha256 of the host's canonical JSON, computed once per value (see fleetRevision). */
  digest: string;
  diagnostics: Diagnostic[];
}


const rejected = (key: string, why: string, host?: string): Diagnostic =>
  warning(`rejected, not trusted: ${why}`, { file: key, ...(host === undefined ? {} : { host }) });

/** Validates one key on its own (cacheable per key and value). */
export function checkEntry(entry: HostEntry, hostsPrefix: string): CheckedEntry {
  const name = nameUnder(entry.key, hostsPrefix);
  if (name === null) return { entry, host: null, digest: '', diagnostics: [rejected(entry.key, 'not a hosts/<name> key')] };
  let raw: unknown;
  try {
    raw = JSON.parse(entry.value);
  } catch (cause) {
    return { entry, host: null, digest: '', diagnostics: [rejected(entry.key, `not JSON (${(cause as Error).message})`, name)] };
  }
  const pos = { file: entry.key, line: 1, col: 1 };
  const checked = checkHost(raw, fixedLocator(pos), pos);
  const errors = checked.diagnostics.map((d) => rejected(entry.key, d.message, name));
  if (checked.host !== null && checked.host.name !== name) errors.push(rejected(entry.key, `the facts name host "${checked.host.name}", not "${name}"`, name));
  if (errors.length > 0) return { entry, host: null, digest: '', diagnostics: errors };
  const { origin: _origin, ...host } = checked.host as Host;
  return { entry, host, digest: sha256(canonicalJson(host)), diagnostics: [] };
}

/**
 * The inventory revision of a fleet: a hash of the trusted hosts' digests in name order. A content hash like
 * inventoryRevision, but linear in the number of changed keys rather than in the fleet's size per change.
 */
export function fleetRevision(trusted: ReadonlyArray<{ host: Host; digest: string }>): string {
  return sha256(trusted.map((t) => `${t.host.name}:${t.digest}`).join('\n')).slice(0, 16);
}

/** The trusted hosts, sorted by name, their fleet revision, and every rejection; address conflicts go to the earlier key. */
export function trustedHosts(entries: Iterable<CheckedEntry>): { hosts: Host[]; revision: string; diagnostics: Diagnostic[] } {
  const byAge = [...entries].sort((a, b) => a.entry.createRevision - b.entry.createRevision || (a.entry.key < b.entry.key ? -1 : 1));
  const book = new AddressBook<Host>();
  const trusted: Array<{ host: Host; digest: string }> = [];
  const diagnostics: Diagnostic[] = [];
  for (const { entry, host, digest, diagnostics: own } of byAge) {
    diagnostics.push(...own);
    if (host === null) continue;
    const addresses = ownedAddresses(host);
    const [taken] = book.conflicts(host, addresses);
    if (taken !== undefined) {
      diagnostics.push(rejected(entry.key, `address ${taken.address} belongs to ${taken.owner.name} (registered earlier)`, host.name));
      continue;
    }
    book.claim(host, addresses);
    trusted.push({ host, digest });
  }
  trusted.sort((a, b) => (a.host.name < b.host.name ? -1 : a.host.name > b.host.name ? 1 : 0));
  return { hosts: trusted.map((t) => t.host), revision: fleetRevision(trusted), diagnostics };
}
