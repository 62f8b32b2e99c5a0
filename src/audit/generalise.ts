/**
 * From observed host pairs to queries, never wider than what was observed. Each rule is carried by a set
 * of hosts C (`on:`) and names peers (`source:` inbound, `destination:` outbound); for each carrier c the
 * peers observed are P(c). A query generalises only when it selects exactly what was observed:
 *
 * - `on: roles:R`, else `roles:R AND environment:E`, `roles:R AND tags:T`, `roles:R AND environment:E AND tags:T`
 *   (E, T shared by every carrier), when that selects exactly C (any environment, as `on:` is not scoped);
 * - peers `roles:R AND SAMETAG` (preferred: narrower for future hosts), else `roles:R`, `roles:R AND tags:T`,
 *   and across environments `roles:R AND environment:E` (and with a tag), when for every carrier c the query,
 *   evaluated as the compiler does for c (c's environment, c's tags), selects exactly P(c);
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

function commonTags(hosts: readonly Host[]): string[] {
  const [first, ...rest] = hosts;
  if (first === undefined) return [];
  return [...first.tags].filter((t) => rest.every((h) => h.tags.includes(t))).sort();
}

/** The environment every host shares, or null. */
function commonEnvironment(hosts: readonly Host[]): string | null {
  const envs = new Set(hosts.map((h) => h.environment));
  return envs.size === 1 ? ([...envs][0] as string) : null;
}

/** `roles:R`, then narrowed by the shared environment and tags, in that order: the queries a person would write. */
function roleQueries(hosts: readonly Host[], withEnvironment: boolean): string[] {
  const env = withEnvironment ? commonEnvironment(hosts) : null;
  const tags = commonTags(hosts).map((t) => `tags:${quoteValue(t)}`);
  const envTerm = env === null ? [] : [`environment:${quoteValue(env)}`];
  return commonRoles(hosts).flatMap((role) => {
    const r = `roles:${quoteValue(role)}`;
    return [r, ...envTerm.map((e) => `${r} AND ${e}`), ...tags.map((t) => `${r} AND ${t}`), ...envTerm.flatMap((e) => tags.map((t) => `${r} AND ${e} AND ${t}`))];
  });
}

/** The query naming exactly the carriers, by a role (with their environment and tag) that has no other host. */
export function carrierQuery(index: HostIndex, carriers: readonly Host[]): string {
  for (const text of roleQueries(carriers, true)) {
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
  /* Within the environment limit the environment is implied; across it, it narrows. */
  for (const text of roleQueries(allPeers, !envLimit)) if (exact(text)) return text;
  return pairings.length === 1 ? byName(allPeers) : null;
}
