/**
 * `palisade impact`: which observed flows a policy would cut, each judged on both ends with explainFlow
 * (the source's output chain, the destination's input chain) as if every host enforced. Addresses that
 * are no inventory host's are matched as plain IPs; a flow with neither end in the inventory is skipped.
 * Cut flows are grouped by (source roles, destination roles, protocol/port).
 */
import type { FleetCompiler } from '../compile/compile.ts';
import { ExplainError, explainFlow, type FlowExplanation } from '../explain/flow.ts';
import { AddressBook } from '../inventory/ownership.ts';
import type { Host } from '../inventory/types.ts';
import type { Flow } from './flow.ts';

export interface CutFlow {
  flow: Flow;
  explanation: FlowExplanation;
}

export interface ImpactGroup {
  /** `roles:a+b` of an inventory host (`name:x` when it has no role), or the plain address. */
  source: string;
  destination: string;
  protocol: Flow['protocol'];
  port: number | null;
  /** Distinct flows, and the records they add up. */
  flows: number;
  records: number;
  sources: string[];
  destinations: string[];
  /**
   * How, where and why they are stopped: `dropped in on db-1: the default policy (input_drop: true)`, or `rejected
   * ...` where the side answers (TCP reset, ICMP unreachable) instead of staying silent.
   */
  droppedBy: string[];
}

export interface ImpactReport {
  checked: number;
  cut: CutFlow[];
  groups: ImpactGroup[];
  skipped: Array<{ flow: Flow; reason: string }>;
}

export function hostByAddress(hosts: readonly Host[]): (address: string) => Host | null {
  const book = AddressBook.of(hosts);
  return (address) => book.owner(address) ?? null;
}

/** The local user owning uid on host, if the inventory names one. */
export function userOf(host: Host | null, uid: number | null): string | null {
  if (host === null || uid === null) return null;
  return Object.entries(host.users).find(([, u]) => u === uid)?.[0] ?? null;
}

export const rolesLabel = (host: Host | null, address: string): string =>
  host === null ? address : host.roles.length > 0 ? `roles:${[...host.roles].sort().join('+')}` : `name:${host.name}`;

const sourceAccepts = (e: FlowExplanation): boolean => e.sides.every((side) => side.direction !== 'out' || side.accepted);

/**
 * Both ends of an observed flow. A record without a uid (the destination's input log, a conntrack entry)
 * does not say which local user sent it: the source's side then counts as open when the output chain, or
 * the chain of any of the source host's users, lets it out (it did leave the host).
 */
export function explainObserved(compiler: FleetCompiler, hosts: readonly Host[], flow: Flow): FlowExplanation {
  const source = hostByAddress(hosts)(flow.source);
  const explain = (user: string | null): FlowExplanation =>
    explainFlow(compiler, hosts, {
      source: flow.source,
      destination: flow.destination,
      protocol: flow.protocol,
      port: flow.port,
      sourcePort: null,
      user,
      family: flow.source.includes(':') ? 6 : 4,
    });
  const anyUser = explain(userOf(source, flow.uid));
  if (flow.uid !== null || source === null || sourceAccepts(anyUser)) return anyUser;
  for (const user of Object.keys(source.users).sort()) {
    const asUser = explain(user);
    if (sourceAccepts(asUser)) return asUser;
  }
  return anyUser;
}

const sorted = (items: Iterable<string>): string[] => [...new Set(items)].sort();

export function analyseImpact(compiler: FleetCompiler, hosts: readonly Host[], flows: readonly Flow[]): ImpactReport {
  const owner = hostByAddress(hosts);
  const cut: CutFlow[] = [];
  const skipped: ImpactReport['skipped'] = [];
  for (const flow of flows) {
    if ((flow.protocol === 'tcp' || flow.protocol === 'udp') && flow.port === null) {
      skipped.push({ flow, reason: `${flow.protocol} flow without a port` });
      continue;
    }
    try {
      const explanation = explainObserved(compiler, hosts, flow);
      if (!explanation.allowed) cut.push({ flow, explanation });
    } catch (cause) {
      if (!(cause instanceof ExplainError)) throw cause;
      skipped.push({ flow, reason: cause.message });
    }
  }
  const groups = new Map<string, ImpactGroup & { members: CutFlow[] }>();
  for (const item of cut) {
    const { flow } = item;
    const source = rolesLabel(owner(flow.source), flow.source);
    const destination = rolesLabel(owner(flow.destination), flow.destination);
    const k = [source, destination, flow.protocol, flow.port ?? ''].join('|');
    let group = groups.get(k);
    if (group === undefined) {
      group = { source, destination, protocol: flow.protocol, port: flow.port, flows: 0, records: 0, sources: [], destinations: [], droppedBy: [], members: [] };
      groups.set(k, group);
    }
    group.members.push(item);
  }
  const result = [...groups.values()].map(({ members, ...group }): ImpactGroup => ({
    ...group,
    flows: members.length,
    records: members.reduce((n, m) => n + m.flow.count, 0),
    sources: sorted(members.map((m) => m.explanation.source.host ?? m.flow.source)),
    destinations: sorted(members.map((m) => m.explanation.destination.host ?? m.flow.destination)),
    droppedBy: sorted(members.flatMap((m) => m.explanation.sides.filter((s) => !s.accepted).map((s) => `${s.decision === 'reject' ? 'rejected' : 'dropped'} ${s.direction} on ${s.host}: ${s.decidedBy}`))),
  }));
  result.sort((a, b) => b.records - a.records || a.source.localeCompare(b.source) || a.destination.localeCompare(b.destination) || (a.port ?? 0) - (b.port ?? 0));
  return { checked: flows.length, cut, groups: result, skipped };
}

export function formatImpact(report: ImpactReport): string {
  const lines: string[] = [];
  if (report.cut.length === 0) lines.push(`clean: none of the ${report.checked} flow(s) would be cut`);
  else lines.push(`${report.cut.length} of ${report.checked} flow(s) would be cut, in ${report.groups.length} group(s):`);
  for (const g of report.groups) {
    const what = `${g.protocol}${g.port === null ? '' : `/${g.port}`}`;
    const hosts = new Set([...g.sources, ...g.destinations]).size;
    lines.push(`  ${g.source} -> ${g.destination} ${what}: ${g.flows} flow(s), ${g.records} record(s), ${hosts} host(s) (${g.sources.join(', ')} -> ${g.destinations.join(', ')})`);
    for (const d of g.droppedBy) lines.push(`    ${d}`);
  }
  if (report.skipped.length > 0) lines.push(`${report.skipped.length} flow(s) not judged (neither end is an inventory host, or no common family)`);
  return `${lines.join('\n')}\n`;
}
