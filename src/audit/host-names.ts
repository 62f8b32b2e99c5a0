/**
 * Host names beside addresses in flow listings (`flows`, `observe`): `web-1 (10.0.1.11)`. Names come from
 * an inventory, or from a lab's record; an address no host owns stays as it is.
 */
import type { Host } from '../inventory/types.ts';
import type { Flow } from './flow.ts';
import { hostByAddress } from './impact.ts';

/** The name of the host owning an address, or null. */
export type HostNamer = (address: string) => string | null;

export const noNames: HostNamer = () => null;

export function namerOfHosts(hosts: readonly Host[]): HostNamer {
  const owner = hostByAddress(hosts);
  return (address) => owner(address)?.name ?? null;
}

/** From (name, addresses) pairs, e.g. a lab's hosts. */
export function namerOfAddresses(hosts: Iterable<{ host: string; addresses: readonly string[] }>): HostNamer {
  const byAddress = new Map<string, string>();
  for (const { host, addresses } of hosts) for (const address of addresses) byAddress.set(address, host);
  return (address) => byAddress.get(address) ?? null;
}

/** A flow with the names of the hosts at its ends (null: no inventory host has that address). */
export interface NamedFlow extends Flow {
  sourceHost: string | null;
  destinationHost: string | null;
}

export const nameFlows = (flows: readonly Flow[], namer: HostNamer): NamedFlow[] =>
  flows.map((flow) => ({ ...flow, sourceHost: namer(flow.source), destinationHost: namer(flow.destination) }));

/** `web-1 (10.0.1.11)`, or the address alone. */
export const withName = (address: string, name: string | null): string => (name === null ? address : `${name} (${address})`);
