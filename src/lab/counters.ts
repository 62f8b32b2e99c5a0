/**
 * `lab logs`: the counters of palisade's log, drop and reject rules in every lab namespace, read by the backend's
 * one counters reader (src/kernel/counters.ts), so a probe run shows which chain stopped how many packets and
 * under which log prefix.
 */
import type { BackendName, ChainCounters } from '../kernel/backend.ts';
import { backendFor } from '../kernel/load.ts';
import type { LabHost } from './state.ts';

export interface HostCounters {
  host: string;
  chains: ChainCounters[];
}

/** A host whose namespace has none of palisade's rules (or cannot be read) has no chains. */
async function hostCounters(host: LabHost, backend: BackendName): Promise<HostCounters> {
  const chains = await backendFor(backend, { netns: host.namespace })
    .counters()
    .catch(() => []);
  return { host: host.host, chains };
}

/** Counters of every lab host, in the lab's host order. */
export function readCounters(hosts: readonly LabHost[], backend: BackendName): Promise<HostCounters[]> {
  return Promise.all(hosts.map((h) => hostCounters(h, backend)));
}
