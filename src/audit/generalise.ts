/**
 * From observed host pairs to queries, never wider than what was observed. Each rule is carried by a set
 * of hosts C (`on:`) and names peers (`source:` inbound, `destination:` outbound); for each carrier c the
 * peers observed are P(c). A query generalises only when it selects exactly what was observed:
 *
 * - `on: roles:R` when the hosts with role R are exactly C (any environment, as `on:` is not scoped);
 * - peers `roles:R AND SAMETAG` (preferred: narrower for future hosts), else `roles:R`, when for every
 *   carrier c the query, evaluated as the compiler does for c (c's environment, c's tags), selects exactly P(c);
 * - otherwise the hosts by name (`name:a OR name:b`), which is exact by construction.
 *
 * So a suggested rule opens no pair that was not observed, on the inventory it was computed from.
 */
import type { HostIndex } from '../query/host-index.ts';
import type { Host } from '../inventory/types.ts';
import { parseQuery } from '../query/parser.ts';

export interface Pairing {
  carrier: Host;
  /** Inventory hosts observed as peers of the carrier. */
  peers: Host[];
}

const names = (hosts: readonly Host[]): string => [...new Set(hosts.map((h) => h.name))].sort().join(',');
const byName = (hosts: readonly Host[]): string => [...new Set(hosts.map((h) => h.name))].sort().map((n) => `name:${quoteValue(n)}`).join(' OR ');

/** A query value, quoted when it is not a plain word. */
export function quoteValue(value: string): string {
  return /^[A-Za-z0-9_.-]+$/.test(value) ? value : `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

function commonRoles(hosts: readonly Host[]): string[] {
  const [first, ...rest] = hosts;
  if (first === undefined) return [];
  return [...first.roles].filter((r) => rest.every((h) => h.roles.includes(r))).sort();
}

/** The query naming exactly the carriers, by a role they share when it has no other host. */
export function carrierQuery(index: HostIndex, carriers: readonly Host[]): string {
  for (const role of commonRoles(carriers)) {
    const text = `roles:${quoteValue(role)}`;
    if (names(index.select(parseQuery(text), { environment: null, self: null })) === names(carriers)) return text;
  }
  return byName(carriers);
}

/**
 * The peer query exact for every carrier, or null when none of the role queries is: the caller then splits
 * the rule per carrier. `envLimit`: whether the rule keeps the compiler's environment limit.
 */
export function peerQuery(index: HostIndex, pairings: readonly Pairing[], envLimit: boolean): string | null {
  const allPeers = pairings.flatMap((p) => p.peers);
  if (allPeers.length === 0) return null;
  const exact = (text: string): boolean =>
    pairings.every(
      (p) => names(index.select(parseQuery(text), { environment: envLimit ? p.carrier.environment : null, self: p.carrier })) === names(p.peers),
    );
  for (const role of commonRoles(allPeers)) {
    const role_ = `roles:${quoteValue(role)}`;
    for (const text of [`${role_} AND SAMETAG`, role_]) if (exact(text)) return text;
  }
  return pairings.length === 1 ? byName(allPeers) : null;
}
