/**
 * `palisade hosts sync --from SOURCE`: the fleet's registrations follow a trusted inventory source (a file, or
 * an `exec:` command such as `knife search node '*:*' -F json`, Chef nodes mapped as everywhere), so that a
 * configuration management database stays the source of truth for roles, tags and environments.
 *
 * The source is loaded and validated as any inventory (names, addresses, sizes: an invalid host stops the
 * sync; a failing command too), then compared with the registrations: hosts to add, to update (identity and
 * pinned addresses from the source; the admin's `networks`, `max_addresses` and `agent` of an existing
 * registration kept), and to remove: only hosts the previous sync registered (`hosts-sync` records them) that
 * the source no longer lists; hosts registered otherwise are never removed. Removing more than half of them
 * (an empty output, a search that matched nothing) is refused unless forced. The changes are written in one
 * transaction (in several of at most MAX_TXN_OPS operations when they do not fit in one, each guarded by the
 * `hosts-sync` record, written last, so that two syncs never interleave).
 */
import type { Etcd3, IOperation } from 'etcd3';
import { InputError, OperationError, UsageError, error, type Diagnostic } from '../diagnostics.ts';
import { canonicalJson } from '../inventory/revision.ts';
import { AddressBook, ownedAddresses } from '../inventory/ownership.ts';
import type { Host } from '../inventory/types.ts';
import type { Keys } from '../fleet/keys.ts';
import { isEtcdUrl } from '../fleet/url.ts';
import { encodeRegistration, removalOps, RegistrationError, type RegistrationInput } from '../fleet/registry.ts';
import { readFleetView, withFleet, type Fleet, type FleetOptions } from './fleet.ts';
import { storedFacts } from './hosts.ts';
import { loadInventory } from './inventory.ts';

/** etcd's default --max-txn-ops: the most operations one transaction may hold. */
export const MAX_TXN_OPS = 128;
/** Above this share of the hosts the previous sync registered, removals need --force. */
export const MAX_REMOVED_SHARE = 0.5;

export interface SyncOptions extends FleetOptions {
  from: string;
  dryRun?: boolean;
  force?: boolean;
}

export interface SyncChange {
  name: string;
  /** For an update: the registration fields that change. */
  fields: string[];
}

export interface SyncPlan {
  url: string;
  source: string;
  /** Hosts the source lists. */
  listed: number;
  add: SyncChange[];
  update: SyncChange[];
  remove: string[];
  unchanged: number;
  written: boolean;
  diagnostics: Diagnostic[];
}

interface SyncRecord {
  source: string;
  hosts: string[];
}

/** The admin's fields of an existing registration that a sync keeps (the source knows nothing of them). */
const KEPT_FIELDS = ['networks', 'max_addresses', 'agent'] as const;

function parseJson(text: string | undefined): Record<string, unknown> | null {
  if (text === undefined) return null;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function readRecord(text: string | undefined): SyncRecord {
  const raw = parseJson(text);
  const hosts = raw !== null && Array.isArray(raw.hosts) ? raw.hosts.filter((h): h is string => typeof h === 'string') : [];
  return { source: typeof raw?.source === 'string' ? raw.source : '', hosts };
}

/** The registration the source's host becomes, checked as every reader checks it. */
function registrationOf(keys: Keys, host: Host, existing: Record<string, unknown> | null): { text: string; value: Record<string, unknown> } {
  const kept = Object.fromEntries(KEPT_FIELDS.flatMap((f) => (existing?.[f] === undefined ? [] : [[f, existing[f]]])));
  const { max_addresses: maxAddresses, ...rest } = kept;
  const input = { ...storedFacts(host), ...rest, ...(maxAddresses === undefined ? {} : { maxAddresses }) } as unknown as RegistrationInput;
  try {
    const { text } = encodeRegistration(keys, input);
    return { text, value: JSON.parse(text) as Record<string, unknown> };
  } catch (cause) {
    if (cause instanceof RegistrationError) throw new InputError(cause.problems.map((p) => error(p, { host: host.name })));
    throw cause;
  }
}

function changedFields(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return fields.filter((f) => canonicalJson(before[f] ?? null) !== canonicalJson(after[f] ?? null));
}

async function readRegistrations(fleet: Fleet): Promise<{ values: Map<string, string>; record: SyncRecord; recordRevision: string }> {
  const all = await fleet.client.getAll().prefix(fleet.keys.hosts).strings();
  const values = new Map<string, string>();
  for (const [key, value] of Object.entries(all)) {
    const name = key.slice(fleet.keys.hosts.length);
    if (name !== '' && !name.includes('/')) values.set(name, value);
  }
  const recordResponse = await fleet.client.get(fleet.keys.sync).exec();
  const kv = recordResponse.kvs[0];
  return { values, record: readRecord(kv?.value.toString()), recordRevision: kv?.mod_revision ?? '0' };
}

/** Writes the operations in transactions of at most MAX_TXN_OPS, each only while the sync record is as read. */
async function commit(client: Etcd3, guardKey: string, guardRevision: string, ops: readonly IOperation[]): Promise<void> {
  for (let start = 0; start < ops.length; start += MAX_TXN_OPS) {
    const result = await client
      .if(guardKey, 'Mod', '==', guardRevision)
      .then(...ops.slice(start, start + MAX_TXN_OPS))
      .commit();
    if (!result.succeeded) {
      throw new OperationError(`another hosts sync changed the fleet meanwhile: ${start} of ${ops.length} operations were written; run the sync again`, {
        kind: 'fleet',
        unchanged: start === 0,
      });
    }
  }
}

export async function syncHosts(options: SyncOptions, cwd: string = process.cwd()): Promise<SyncPlan> {
  if (isEtcdUrl(options.from)) throw new UsageError('--from takes a file or exec:COMMAND (the source of truth), not the fleet itself');
  const inventory = await loadInventory(options.from, { cwd });
  const listed = inventory.hosts;
  return withFleet(options, async (fleet) => {
    const { values, record, recordRevision } = await readRegistrations(fleet);
    const registered = (name: string): Record<string, unknown> | null => parseJson(values.get(name));
    const wanted = new Map(listed.map((host) => [host.name, registrationOf(fleet.keys, host, registered(host.name))]));

    const names = new Set(wanted.keys());
    const remove = record.hosts.filter((name) => !names.has(name) && values.has(name)).sort();
    const gone = new Set(remove);
    const book = AddressBook.of<Host>((await readFleetView(fleet)).inventory().hosts.filter((h) => !names.has(h.name) && !gone.has(h.name)));
    const conflicts = listed.flatMap((h) =>
      book.conflicts(h, ownedAddresses(h)).map(({ address, owner }) => error(`address ${address} already belongs to ${owner.name}, which this sync does not manage: readers would reject this host`, { host: h.name })),
    );
    if (conflicts.length > 0) throw new InputError(conflicts);

    const add: SyncChange[] = [];
    const update: SyncChange[] = [];
    let unchanged = 0;
    for (const [name, { text, value }] of wanted) {
      const before = values.get(name);
      if (before === undefined) add.push({ name, fields: [] });
      else if (before !== text) update.push({ name, fields: changedFields(parseJson(before) ?? {}, value) });
      else unchanged++;
    }
    const plan: SyncPlan = { url: fleet.url, source: options.from, listed: listed.length, add, update, remove, unchanged, written: false, diagnostics: inventory.diagnostics };

    const previous = record.hosts.filter((name) => values.has(name)).length;
    if (remove.length > 0 && remove.length > MAX_REMOVED_SHARE * previous && options.force !== true) {
      throw new OperationError(
        `${options.from} lists ${listed.length} host(s): the sync would remove ${remove.length} of the ${previous} host(s) the last sync registered (${remove.slice(0, 5).join(', ')}${remove.length > 5 ? ', ...' : ''}); ` +
          'a failed or empty search looks like this: check the source, or pass --force to remove them',
        { kind: 'fleet', unchanged: true },
      );
    }
    if (options.dryRun === true) return plan;

    const client = fleet.client;
    const ops: IOperation[] = [
      ...[...add, ...update].map(({ name }) => client.put(fleet.keys.host(name)).value(wanted.get(name)?.text ?? '')),
      ...remove.flatMap((name) => removalOps(client, fleet.keys, name)),
    ];
    ops.push(client.put(fleet.keys.sync).value(JSON.stringify({ source: options.from, hosts: [...names].sort(), at: new Date().toISOString() })));
    await commit(client, fleet.keys.sync, recordRevision, ops);
    return { ...plan, written: true };
  });
}
