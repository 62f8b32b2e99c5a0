/**
 * Where each host of an inventory is, by name: one map per list of hosts, made once and shared by whoever asks
 * (the compiler, the names to resolve). The document parser hands over the one it built checking that names
 * are unique, so a fleet of 100,000 hosts is not mapped again. A list of hosts is never changed once loaded.
 */
import type { Host } from './types.ts';

const byList = new WeakMap<readonly Host[], ReadonlyMap<string, number>>();

/** Name → position in `hosts`; a name written twice: its last host's. */
export function hostPositions(hosts: readonly Host[]): ReadonlyMap<string, number> {
  let positions = byList.get(hosts);
  if (positions === undefined) {
    const built = new Map<string, number>();
    hosts.forEach((host, position) => built.set(host.name, position));
    positions = built;
    byList.set(hosts, positions);
  }
  return positions;
}

/** Records what hostPositions(hosts) is: a map already built for exactly these hosts, each name once. */
export function knownHostPositions(hosts: readonly Host[], positions: ReadonlyMap<string, number>): void {
  byList.set(hosts, positions);
}
