/**
 * Registrations (docs/fleet.md): static hosts of a fleet (appliances, external services: hosts without an
 * agent, their addresses pinned) and agents' hosts (identity and the networks the agent may claim addresses
 * in), written without a lease, validated as every reader validates them and against the addresses the fleet
 * already trusts; removed by name with everything the host's agent published.
 */
import { readFile } from 'node:fs/promises';
import { decodeUtf8 } from '../source-text.ts';
import { InputError, UsageError, error, type Diagnostic } from '../diagnostics.ts';
import { parseInventoryDocument } from '../inventory/document.ts';
import { AddressBook, ownedAddresses } from '../inventory/ownership.ts';
import type { Host } from '../inventory/types.ts';
import { fleetKeys } from '../fleet/keys.ts';
import { encodeRegistration, removeHost as removeFleetHost, RegistrationError, type RegistrationInput } from '../fleet/registry.ts';
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
    const bytes = await readFile(file).catch((cause: Error) => {
      throw new InputError([error(`cannot read: ${cause.message}`, { file })]);
    });
    return parseInventoryDocument(decodeUtf8(bytes, file), file).hosts;
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

/** Writes the hosts' registrations unless one would pin an address the fleet trusts for another host. */
export async function registerHosts(hosts: readonly Host[], options: FleetOptions): Promise<{ url: string; diagnostics: Diagnostic[] }> {
  return withFleet(options, async (fleet) => {
    const view = await readFleetView(fleet);
    const book = AddressBook.of<Host>(view.inventory().hosts);
    const conflicts = hosts.flatMap((h) =>
      book.conflicts(h, ownedAddresses(h)).map(({ address, owner }) => error(`address ${address} already belongs to ${owner.name}: readers would reject this host`, { host: h.name })),
    );
    if (conflicts.length > 0) throw new InputError(conflicts);
    for (const host of hosts) await fleet.client.put(fleet.keys.host(host.name)).value(JSON.stringify(storedFacts(host))).exec();
    return { url: fleet.url, diagnostics: view.diagnostics() };
  });
}

/** Deletes a host's registration, observation, claims and liveness: it leaves every set at once; whether it was registered. */
export async function removeHost(name: string, options: FleetOptions): Promise<{ url: string; removed: boolean }> {
  return withFleet(options, async (fleet) => ({ url: fleet.url, removed: await removeFleetHost(fleet.client, fleet.keys, name) }));
}

/** The registration of an agent's host (`fleet add-agent NAME --role ... --network ...`), checked, then written. */
export async function registerAgentHost(input: RegistrationInput, options: FleetOptions): Promise<{ url: string; diagnostics: Diagnostic[] }> {
  let text: string;
  try {
    text = encodeRegistration(fleetKeys(''), input).text;
  } catch (cause) {
    if (!(cause instanceof RegistrationError)) throw cause;
    throw new InputError(cause.problems.map((p) => error(p, { host: input.name })));
  }
  return withFleet(options, async (fleet) => {
    await fleet.client.put(fleet.keys.host(input.name)).value(text).exec();
    return { url: fleet.url, diagnostics: (await readFleetView(fleet)).diagnostics().filter((d) => d.host === input.name) };
  });
}
