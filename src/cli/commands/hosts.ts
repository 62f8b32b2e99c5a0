/**
 * `palisade hosts put FILE | --name ...` registers static hosts (appliances, external services: hosts without
 * an agent) without a lease, validated like an inventory file and against the addresses the fleet already
 * trusts; `palisade hosts rm NAME` removes one.
 */
import { readFile } from 'node:fs/promises';
import { InputError, error } from '../../diagnostics.ts';
import { readSnapshot } from '../../fleet/snapshot.ts';
import { FleetView } from '../../fleet/view.ts';
import { parseInventoryDocument } from '../../inventory/document.ts';
import type { Host } from '../../inventory/types.ts';
import { reportDiagnostics, type Output } from '../output.ts';
import { UsageError } from '../../diagnostics.ts';
import { withFleet, type FleetOptions } from './fleet-connection.ts';

export interface HostsPutOptions extends FleetOptions {
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

async function hostsFrom(file: string | undefined, options: HostsPutOptions): Promise<Host[]> {
  if (file !== undefined) {
    if (options.name !== undefined) throw new UsageError('give a FILE or --name, not both');
    const text = await readFile(file, 'utf8').catch((cause: Error) => {
      throw new InputError([error(`cannot read: ${cause.message}`, { file })]);
    });
    return parseInventoryDocument(text, file).hosts;
  }
  if (options.name === undefined || options.address === undefined) throw new UsageError('give an inventory FILE, or --name and --address');
  const host = {
    name: options.name,
    ...(options.environment === undefined ? {} : { environment: options.environment }),
    roles: options.role ?? [],
    tags: options.tag ?? [],
    interfaces: { lan: options.address },
    lan: 'lan',
  };
  return parseInventoryDocument(JSON.stringify({ hosts: [host] }), '--name').hosts;
}

export async function hostsPutCommand(file: string | undefined, options: HostsPutOptions, output: Output): Promise<number> {
  const hosts = await hostsFrom(file, options);
  return withFleet(options, async ({ client, keys, url }) => {
    const view = new FleetView(keys, url);
    view.reset(await readSnapshot(client, keys));
    const owner = new Map<string, string>();
    for (const h of view.inventory().hosts) for (const a of Object.values(h.interfaces).flat()) owner.set(a, h.name);
    const conflicts = hosts.flatMap((h) =>
      Object.values(h.interfaces)
        .flat()
        .filter((a) => owner.has(a) && owner.get(a) !== h.name)
        .map((a) => error(`address ${a} already belongs to ${owner.get(a)}: readers would reject this host`, { host: h.name })),
    );
    const agents = hosts.filter((h) => view.leased(h.name) === true).map((h) => error('an agent registers this host (its key is on a lease): not overwriting it', { host: h.name }));
    if (conflicts.length + agents.length > 0) throw new InputError([...conflicts, ...agents]);
    for (const host of hosts) await client.put(keys.host(host.name)).value(JSON.stringify(storedFacts(host))).exec();
    reportDiagnostics(output, view.diagnostics());
    output.out(`registered ${hosts.length} static host(s) in ${url}: ${hosts.map((h) => h.name).join(', ')}`);
    return 0;
  });
}

export async function hostsRmCommand(name: string, options: FleetOptions, output: Output): Promise<number> {
  return withFleet(options, async ({ client, keys, url }) => {
    const deleted = await client.delete().key(keys.host(name)).exec();
    if (Number(deleted.deleted) === 0) {
      output.err(`error: no host "${name}" in ${url}`);
      return 1;
    }
    output.out(`removed host ${name} from ${url}`);
    return 0;
  });
}
