/**
 * The AFW way, as a baseline: for every rule, re-run the search over every host (no index, no cache) and
 * write one iptables rule per resolved address. As AFW was: it wrote each peer's `lanip` (one IPv4 address of
 * its lan interface) and no IPv6 rule at all, so a host contributes one address per rule, here its first IPv4
 * lan address.
 */
import type { Host } from '../src/inventory/types.ts';
import type { QueryNode } from '../src/query/ast.ts';
import type { Policy, Rule } from '../src/policy/types.ts';

function wildcard(pattern: string, value: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return regex.test(value);
}

function fieldValues(host: Host, field: string): string[] {
  if (field === 'name') return [host.name];
  if (field === 'environment') return [host.environment];
  if (field === 'roles') return host.roles;
  if (field === 'tags') return host.tags;
  let value: unknown = host.attributes;
  for (const key of field.split('.')) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

export function naiveMatch(node: QueryNode, host: Host, self: Host | null): boolean {
  switch (node.kind) {
    case 'all':
      return true;
    case 'sametag':
      return self !== null && host.tags.some((t) => self.tags.includes(t));
    case 'term': {
      const values = fieldValues(host, node.field);
      return node.wildcard ? values.some((v) => wildcard(node.value, v)) : values.includes(node.value);
    }
    case 'and':
      return node.items.every((n) => naiveMatch(n, host, self));
    case 'or':
      return node.items.some((n) => naiveMatch(n, host, self));
    case 'not':
      return !naiveMatch(node.item, host, self);
  }
}

function carries(rule: Rule, host: Host): boolean {
  return (rule.env === null || rule.env === host.environment) && (rule.on === null || naiveMatch(rule.on, host, null));
}

/** One host's AFW-style ruleset: the lines, one per (rule, address). */
export function afwExpand(policy: Policy, hosts: readonly Host[], host: Host): string[] {
  const lines: string[] = [];
  for (const rule of policy.rules) {
    if (!carries(rule, host)) continue;
    const chain = rule.direction === 'in' ? 'INPUT' : rule.user === null ? 'OUTPUT' : `OUT-${rule.user}`;
    const flag = rule.direction === 'in' ? '-s' : '-d';
    const ports = rule.dport === null ? '' : ` --dport ${rule.dport.map((r) => (r.from === r.to ? r.from : `${r.from}:${r.to}`)).join(',')}`;
    for (const peer of rule.peers) {
      const addresses =
        peer.kind === 'cidr'
          ? [peer.cidr]
          : peer.kind === 'query'
            ? hosts
                .filter((h) => (rule.options.disableEnvLimit || h.environment === host.environment) && naiveMatch(peer.query, h, host))
                .flatMap((h) => h.addresses.v4.slice(0, 1))
            : [];
      for (const address of addresses) lines.push(`-A ${chain} ${flag} ${address} -p ${rule.protocol}${ports} -j ACCEPT`);
    }
  }
  return lines;
}
