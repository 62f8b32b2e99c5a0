/**
 * `palisade suggest`: rules for the observed flows a policy cuts, in the policy file format, generalised
 * from addresses to roles and tags only as far as generalise.ts proves exact, each with its evidence
 * (flows, records, hosts, first and last seen) in a comment. One rule per dropping side: an inbound rule
 * where the destination drops, an outbound rule (with the socket's user when a user chain drops) where
 * the source does; never an any-user outbound rule for a flow without its uid on a host with per-user rules.
 * Peers outside the inventory are written as their addresses.
 */
import type { FleetCompiler } from '../compile/compile.ts';
import type { Host } from '../inventory/types.ts';
import type { Policy } from '../policy/types.ts';
import type { Flow } from './flow.ts';
import { carrierQuery, peerQuery, type Pairing } from './generalise.ts';
import { analyseImpact, hostByAddress, rolesLabel, userOf, type CutFlow } from './impact.ts';

export interface SuggestedRule {
  name: string;
  on: string;
  direction: 'in' | 'out';
  protocol: Flow['protocol'];
  user: string | null;
  /** Queries and addresses. */
  peers: string[];
  port: number | null;
  disableEnvLimit: boolean;
  evidence: { flows: number; records: number; pairs: string[]; firstSeen: string | null; lastSeen: string | null };
}

/** One dropping side of one cut flow. */
interface Need {
  direction: 'in' | 'out';
  carrier: Host;
  peer: Host | null;
  peerAddress: string;
  user: string | null;
  item: CutFlow;
}

/**
 * `perUser`: whether a host has per-user outbound rules; a flow recorded without its socket's uid (an inbound
 * log, a conntrack entry) then gets no any-user outbound rule there, which would open the port to every user.
 */
function needsOf(item: CutFlow, owner: (a: string) => Host | null, perUser: (h: Host) => boolean): Need[] {
  const { flow, explanation } = item;
  return explanation.sides.flatMap((side): Need[] => {
    if (side.accepted) return [];
    const carrier = owner(side.direction === 'in' ? flow.destination : flow.source);
    if (carrier === null) return [];
    if (side.direction === 'in') return [{ direction: 'in', carrier, peer: owner(flow.source), peerAddress: flow.source, user: null, item }];
    if (flow.uid === null && perUser(carrier)) return [];
    const user = side.chain === 'output' ? null : userOf(carrier, flow.uid);
    return [{ direction: 'out', carrier, peer: owner(flow.destination), peerAddress: flow.destination, user, item }];
  });
}

const unique = <T>(items: Iterable<T>): T[] => [...new Set(items)];
const earliest = (xs: Array<string | null>): string | null => xs.filter((x): x is string => x !== null).sort()[0] ?? null;
const latest = (xs: Array<string | null>): string | null => xs.filter((x): x is string => x !== null).sort().at(-1) ?? null;

function evidence(needs: readonly Need[]): SuggestedRule['evidence'] {
  const flows = unique(needs.map((n) => n.item.flow));
  const label = (n: Need): string => {
    const peer = n.peer?.name ?? n.peerAddress;
    return n.direction === 'in' ? `${peer} -> ${n.carrier.name}` : `${n.carrier.name} -> ${peer}`;
  };
  return {
    flows: flows.length,
    records: flows.reduce((s, f) => s + f.count, 0),
    pairs: unique(needs.map(label)).sort(),
    firstSeen: earliest(flows.map((f) => f.firstSeen)),
    lastSeen: latest(flows.map((f) => f.lastSeen)),
  };
}

function pairings(needs: readonly Need[]): Pairing[] {
  const byCarrier = new Map<Host, Set<Host>>();
  for (const n of needs) {
    const peers = byCarrier.get(n.carrier) ?? new Set<Host>();
    if (n.peer !== null) peers.add(n.peer);
    byCarrier.set(n.carrier, peers);
  }
  return [...byCarrier].map(([carrier, peers]) => ({ carrier, peers: [...peers] }));
}

/** The rules for one group of needs: one rule when a query is exact for all carriers, else one per carrier. */
function rulesFor(compiler: FleetCompiler, needs: readonly Need[]): Array<Omit<SuggestedRule, 'name'>> {
  const first = needs[0] as Need;
  const { direction, user } = first;
  const { protocol, port } = first.item.flow;
  const build = (group: readonly Need[], peerText: string | null): Omit<SuggestedRule, 'name'> => {
    const addresses = unique(group.filter((n) => n.peer === null).map((n) => n.peerAddress)).sort();
    const carriers = unique(group.map((n) => n.carrier));
    return {
      on: carrierQuery(compiler.index, carriers),
      direction,
      protocol,
      user,
      peers: [...(peerText === null ? [] : [peerText]), ...addresses],
      port,
      disableEnvLimit: group.some((n) => n.peer !== null && n.peer.environment !== n.carrier.environment),
      evidence: evidence(group),
    };
  };
  const envLimit = !needs.some((n) => n.peer !== null && n.peer.environment !== n.carrier.environment);
  const all = pairings(needs);
  const addressSets = unique(all.map((p) => unique(needs.filter((n) => n.carrier === p.carrier && n.peer === null).map((n) => n.peerAddress)).sort().join(',')));
  const hasHosts = all.some((p) => p.peers.length > 0);
  const whole = hasHosts ? peerQuery(compiler.index, all, envLimit) : null;
  if (addressSets.length === 1 && (!hasHosts || whole !== null)) return [build(needs, whole)];
  return all.map((p) => {
    const own = needs.filter((n) => n.carrier === p.carrier);
    const ownEnvLimit = !own.some((n) => n.peer !== null && n.peer.environment !== n.carrier.environment);
    return build(own, p.peers.length > 0 ? peerQuery(compiler.index, [p], ownEnvLimit) : null);
  });
}

function ruleName(rule: Omit<SuggestedRule, 'name'>, taken: Set<string>): string {
  const what = `${rule.protocol}${rule.port === null ? '' : `/${rule.port}`}`;
  const base =
    rule.direction === 'in'
      ? `Observed ${what} from ${rule.peers.join(' OR ')} on ${rule.on}`
      : `Observed ${what} to ${rule.peers.join(' OR ')} from ${rule.on}${rule.user === null ? '' : ` as ${rule.user}`}`;
  const short = base.length > 180 ? `${base.slice(0, 177)}...` : base;
  let name = short;
  for (let n = 2; taken.has(name); n++) name = `${short} (${n})`;
  taken.add(name);
  return name;
}

/** The rules that would let every cut flow through, named apart from the policy's own rules. */
export function suggestRules(compiler: FleetCompiler, hosts: readonly Host[], policy: Policy, flows: readonly Flow[]): SuggestedRule[] {
  const owner = hostByAddress(hosts);
  const report = analyseImpact(compiler, hosts, flows);
  const groups = new Map<string, Need[]>();
  const perUser = (h: Host): boolean => compiler.compile(h.name).chains.some((c) => c.user !== undefined);
  for (const need of report.cut.flatMap((item) => needsOf(item, owner, perUser))) {
    const { flow } = need.item;
    const k = [need.direction, flow.protocol, flow.port ?? '', need.user ?? '', rolesLabel(need.carrier, ''), rolesLabel(need.peer, need.peerAddress)].join('|');
    groups.set(k, [...(groups.get(k) ?? []), need]);
  }
  const taken = new Set([...policy.rules.map((r) => r.name), ...policy.raw.map((r) => r.name)]);
  const keys = [...groups.keys()].sort();
  return keys.flatMap((k) => rulesFor(compiler, groups.get(k) as Need[])).map((rule) => ({ name: ruleName(rule, taken), ...rule }));
}

const q = (text: string): string => JSON.stringify(text);

/** The rules as a policy file (rules only, so it merges with a policy that has settings). */
export function formatSuggestions(rules: readonly SuggestedRule[], sources: readonly string[]): string {
  const lines = [
    `# Suggested by palisade suggest from the observed flows in ${sources.join(', ')}.`,
    '# Every rule opens only host pairs that were observed (see the evidence); review before adding.',
  ];
  if (rules.length === 0) return `${lines.join('\n')}\n# Nothing to suggest: the policy lets every observed flow through.\nrules: {}\n`;
  lines.push('rules:');
  for (const r of rules) {
    const e = r.evidence;
    const seen = e.firstSeen === null ? '' : `, seen ${e.firstSeen} to ${e.lastSeen ?? e.firstSeen}`;
    lines.push(`  # evidence: ${e.flows} flow(s), ${e.records} record(s)${seen}: ${e.pairs.join('; ')}`);
    lines.push(`  ${q(r.name)}:`, `    on: ${q(r.on)}`, `    direction: ${r.direction}`, `    protocol: ${r.protocol}`);
    if (r.user !== null) lines.push(`    user: ${q(r.user)}`);
    lines.push(`    ${r.direction === 'in' ? 'source' : 'destination'}:`, ...r.peers.map((p) => `      - ${q(p)}`));
    if (r.port !== null) lines.push(`    dport: ${r.port}`);
    if (r.disableEnvLimit) lines.push('    options: [disable_env_limit]');
  }
  return `${lines.join('\n')}\n`;
}
