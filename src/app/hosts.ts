/**
 * Static hosts of a fleet (appliances, external services: hosts without an agent): registered without a lease,
 * validated like an inventory file and against the addresses the fleet already trusts; removed by name.
 */
import { readFile } from 'node:fs/promises';
import { InputError, UsageError, error, type Diagnostic } from '../diagnostics.ts';
import { parseInventoryDocument } from '../inventory/document.ts';
import { AddressBook, ownedAddresses } from '../inventory/ownership.ts';
import type { Host } from '../inventory/types.ts';
import { readFleetView, withFleet, type FleetOptions } from './fleet.ts';

/** One host given field by field (`hosts put --name ...`). */
export interface HostFields {
  name?: string;
  address?: string[];
  environment?: string;
  role?: string[];
  tag?: string[];
}

/** The facts stored for a host: its validated fields, without derived ones. */
export function storedFacts(host: Host): Record<string, unknown> {
  const { addresses: _addresses, origin: _origin, ...facts } = host;
  return facts;
}

/** The hosts of an inventory file, or the one host the fields describe; validated like an inventory. */
export async function staticHosts(file: string | undefined, fields: HostFields): Promise<Host[]> {
  if (file !== undefined) {
    if (fields.name !== undefined) throw new UsageError('give a FILE or --name, not both');
    const text = await readFile(file, 'utf8').catch((cause: Error) => {
      throw new InputError([error(`cannot read: ${cause.message}`, { file })]);
    });
    return parseInventoryDocument(text, file).hosts;
  }
  if (fields.name === undefined || fields.address === undefined) throw new UsageError('give an inventory FILE, or --name and --address');
  const host = {
    name: fields.name,
    ...(fields.environment === undefined ? {} : { environment: fields.environment }),
    roles: fields.role ?? [],
    tags: fields.tag ?? [],
    interfaces: { lan: fields.address },
    lan: 'lan',
  };
  return parseInventoryDocument(JSON.stringify({ hosts: [host] }), '--name').hosts;
}

/** Writes the hosts' keys unless one would take an address the fleet trusts for another host or overwrite an agent's key. */
export async function registerHosts(hosts: readonly Host[], options: FleetOptions): Promise<{ url: string; diagnostics: Diagnostic[] }> {
  return withFleet(options, async (fleet) => {
    const view = await readFleetView(fleet);
    const book = AddressBook.of<Host>(view.inventory().hosts);
    const conflicts = hosts.flatMap((h) =>
      book.conflicts(h, ownedAddresses(h)).map(({ address, owner }) => error(`address ${address} already belongs to ${owner.name}: readers would reject this host`, { host: h.name })),
    );
    const agents = hosts.filter((h) => view.leased(h.name) === true).map((h) => error('an agent registers this host (its key is on a lease): not overwriting it', { host: h.name }));
    if (conflicts.length + agents.length > 0) throw new InputError([...conflicts, ...agents]);
    for (const host of hosts) await fleet.client.put(fleet.keys.host(host.name)).value(JSON.stringify(storedFacts(host))).exec();
    return { url: fleet.url, diagnostics: view.diagnostics() };
  });
}

/** Deletes a host's key; whether there was one. */
export async function removeHost(name: string, options: FleetOptions): Promise<{ url: string; removed: boolean }> {
  return withFleet(options, async (fleet) => {
    const deleted = await fleet.client.delete().key(fleet.keys.host(name)).exec();
    return { url: fleet.url, removed: Number(deleted.deleted) > 0 };
  });
}
