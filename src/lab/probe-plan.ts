/**
 * Which connections `lab probe` makes, and what `explain` predicts for each: pure. For every ordered pair of
 * hosts, the ports and protocols the destination's inbound rules or the source's outbound rules open, plus
 * a few ports no rule opens, over each address family both ends have; outbound ports of a per-user rule are
 * tried as that user and as a uid no rule names.
 */
import type { FleetCompiler } from '../compile/compile.ts';
import type { Family, IrRule, Match, Ruleset } from '../compile/ir.ts';
import { explainFlow, type FlowExplanation } from '../explain/flow.ts';
import type { Decision } from '../explain/evaluate.ts';
import type { Host } from '../inventory/types.ts';
import type { PortRange } from '../policy/types.ts';
import { describeOrigin } from '../compile/origin.ts';

export type ProbeProtocol = 'tcp' | 'udp' | 'icmp' | 'icmpv6';

/** A port (or ICMP) worth probing, and the outbound user whose rule opens it. */
export interface PortSpec {
  protocol: ProbeProtocol;
  /** null for ICMP. */
  port: number | null;
  sourcePort: number | null;
  /** The user of the outbound per-user rule that asks for this port; null otherwise. */
  user: string | null;
}

export interface Probe {
  source: string;
  destination: string;
  protocol: ProbeProtocol;
  port: number | null;
  sourcePort: number | null;
  family: Family;
  /** The inventory user owning the socket; null: a uid that no rule of the source names. */
  user: string | null;
  uid: number;
  sourceAddress: string;
  destinationAddress: string;
  /** What explain says. */
  predicted: boolean;
  /** How: accept, or the first side that stops the flow drops it (the sender times out) or rejects it (refused at once). */
  decision: Decision;
  /** explain's reasons, one per side. */
  reasons: string[];
  /** Raw rules explain passed over: a difference from the kernel may be theirs. */
  unevaluated: string[];
}

export interface ProbePlan {
  probes: Probe[];
  /** Closed ports sampled for every pair. */
  closedPorts: PortSpec[];
  /** What was not probed, and why. */
  notes: string[];
}

export interface PlanInputs {
  compiler: FleetCompiler;
  hosts: readonly Host[];
  /** Inventory users (name and uid) the lab could not provide: no probe runs as them. */
  unavailableUsers: ReadonlyArray<{ name: string; uid: number }>;
  /** Ports to probe on every pair besides those the rules name (e.g. those raw rules open). */
  extraPorts: readonly PortSpec[];
  /** Whether `ping` is there: without it ICMP is not probed (and a note says so). */
  probeIcmp: boolean;
}

/** The port tried for rules that open every port of a protocol. */
export const ANY_PORT = 10999;
/** Candidates for ports that no rule opens: the first two free for TCP, the first free for UDP. */
const CLOSED_CANDIDATES = [9, 1023, 4444, 6999, 50000, 61000, 65000];
/** uids tried, in order, for flows of "no particular user": the first one no skuid match of the source names. */
const ANONYMOUS_UIDS = [0, 65534, 65533, 65532];

const protoOf = (rule: IrRule): Extract<Match, { kind: 'proto' }>['protocol'] | null =>
  (rule.matches.find((m): m is Extract<Match, { kind: 'proto' }> => m.kind === 'proto')?.protocol ?? null);

const portsOf = (rule: IrRule, kind: 'dport' | 'sport'): PortRange[] | null =>
  rule.matches.find((m): m is Extract<Match, { kind: 'dport' | 'sport' }> => m.kind === kind)?.ports ?? null;

/** A range's ends: enough to catch an off-by-one in either renderer without trying every port. */
const representatives = (ranges: readonly PortRange[] | null): Array<number | null> =>
  ranges === null ? [null] : [...new Set(ranges.flatMap((r) => (r.from === r.to ? [r.from] : [r.from, r.to])))];

/** The port specs one IR rule opens; a note when its protocol cannot be probed. */
export function ruleSpecs(rule: IrRule, user: string | null, notes: Set<string>): PortSpec[] {
  if (rule.verdict.kind !== 'accept' || (rule.origin.kind !== 'rule' && rule.origin.kind !== 'failsafe')) return [];
  const protocol = protoOf(rule);
  const sport = representatives(portsOf(rule, 'sport'))[0] ?? null;
  const ports = (p: 'tcp' | 'udp'): PortSpec[] =>
    representatives(portsOf(rule, 'dport')).map((port) => ({ protocol: p, port: port ?? ANY_PORT, sourcePort: sport, user }));
  switch (protocol) {
    case 'tcp':
    case 'udp':
      return ports(protocol);
    case 'icmp':
    case 'icmpv6':
      return [{ protocol, port: null, sourcePort: null, user }];
    case null:
      return [...ports('tcp'), ...ports('udp'), { protocol: 'icmp', port: null, sourcePort: null, user }, { protocol: 'icmpv6', port: null, sourcePort: null, user }];
    default: {
      notes.add(`${describeOrigin(rule.origin)}: ${protocol} is not probed (no socket to test it with)`);
      return [];
    }
  }
}

const chain = (rs: Ruleset, name: string): IrRule[] => rs.chains.find((c) => c.name === name)?.rules ?? [];

export function inboundSpecs(rs: Ruleset, notes: Set<string>): PortSpec[] {
  return chain(rs, 'input').flatMap((rule) => ruleSpecs(rule, null, notes));
}

export function outboundSpecs(rs: Ruleset, notes: Set<string>): PortSpec[] {
  const general = chain(rs, 'output').flatMap((rule) => ruleSpecs(rule, null, notes));
  const perUser = rs.chains.filter((c) => c.hook === null && c.user !== undefined).flatMap((c) => c.rules.flatMap((rule) => ruleSpecs(rule, c.user?.name ?? null, notes)));
  return [...general, ...perUser];
}

/** Ports no rule of any ruleset names (in any chain, either protocol). */
export function closedPorts(rulesets: readonly Ruleset[]): PortSpec[] {
  const ranges = rulesets.flatMap((rs) => rs.chains.flatMap((c) => c.rules.flatMap((r) => [...(portsOf(r, 'dport') ?? []), ...(portsOf(r, 'sport') ?? [])])));
  const free = CLOSED_CANDIDATES.filter((p) => p !== ANY_PORT && !ranges.some((r) => p >= r.from && p <= r.to));
  return [
    ...free.slice(0, 2).map((port): PortSpec => ({ protocol: 'tcp', port, sourcePort: null, user: null })),
    ...free.slice(0, 1).map((port): PortSpec => ({ protocol: 'udp', port, sourcePort: null, user: null })),
  ];
}

/** The uid that stands for "a user no rule names" on this host. */
export function anonymousUid(rs: Ruleset): number {
  const named = new Set(rs.chains.flatMap((c) => c.rules.flatMap((r) => r.matches.flatMap((m) => (m.kind === 'skuid' ? [m.uid] : [])))));
  const uid = ANONYMOUS_UIDS.find((u) => !named.has(u));
  if (uid === undefined) throw new Error(`every candidate uid (${ANONYMOUS_UIDS.join(', ')}) has rules on ${rs.host}`);
  return uid;
}

const familiesOf = (protocol: ProbeProtocol): Family[] => (protocol === 'icmp' ? [4] : protocol === 'icmpv6' ? [6] : [4, 6]);

const specKey = (s: PortSpec): string => `${s.protocol}/${s.port}/${s.sourcePort}/${s.user}`;

const PAST: Record<Decision, string> = { accept: 'accepted', drop: 'dropped', reject: 'rejected' };

function reasons(e: FlowExplanation): string[] {
  return e.sides.map((s) => `${s.direction} on ${s.host}: ${PAST[s.decision]} by ${s.decidedBy}`);
}

/** The decision a probe meets: the first side that does not accept decides. */
export function flowDecision(e: FlowExplanation): Decision {
  return e.sides.find((s) => !s.accepted)?.decision ?? 'accept';
}

export function planProbes(inputs: PlanInputs): ProbePlan {
  const { compiler, hosts } = inputs;
  const notes = new Set<string>();
  const rulesets = new Map(hosts.map((h) => [h.name, compiler.compile(h.name)]));
  const all = [...rulesets.values()];
  const closed = closedPorts(all);
  const inbound = new Map(all.map((rs) => [rs.host, inboundSpecs(rs, notes)]));
  const outbound = new Map(all.map((rs) => [rs.host, outboundSpecs(rs, notes)]));
  const probes: Probe[] = [];
  for (const source of hosts) {
    const rs = rulesets.get(source.name) as Ruleset;
    const anonymous = anonymousUid(rs);
    for (const destination of hosts) {
      if (destination === source) continue;
      const specs = new Map<string, PortSpec>();
      const add = (spec: PortSpec): void => {
        if (!inputs.probeIcmp && (spec.protocol === 'icmp' || spec.protocol === 'icmpv6')) {
          notes.add('ping is not installed: ICMP and ICMPv6 are not probed');
          return;
        }
        const uid = spec.user === null ? null : source.users[spec.user];
        if (spec.user !== null && inputs.unavailableUsers.some((u) => u.name === spec.user && u.uid === uid)) {
          notes.add(`user ${spec.user}: not available in the lab, probes as ${spec.user} skipped`);
        } else specs.set(specKey(spec), spec);
      };
      for (const spec of [...(inbound.get(destination.name) ?? []), ...(outbound.get(source.name) ?? []), ...closed, ...inputs.extraPorts]) {
        add(spec);
        /* A per-user port is also tried by a uid without rules: the proof that the rule is per user. */
        if (spec.user !== null) add({ ...spec, user: null });
      }
      for (const spec of specs.values()) {
        for (const family of familiesOf(spec.protocol)) {
          const key = family === 4 ? 'v4' : 'v6';
          if (source.addresses[key].length === 0 || destination.addresses[key].length === 0) continue;
          const e = explainFlow(compiler, hosts, {
            source: source.name,
            destination: destination.name,
            protocol: spec.protocol,
            port: spec.port,
            sourcePort: spec.sourcePort,
            user: spec.user,
            family,
          });
          probes.push({
            source: source.name,
            destination: destination.name,
            protocol: spec.protocol,
            port: spec.port,
            sourcePort: spec.sourcePort,
            family,
            user: spec.user,
            uid: spec.user === null ? anonymous : (source.users[spec.user] as number),
            sourceAddress: e.source.address,
            destinationAddress: e.destination.address,
            predicted: e.allowed,
            decision: flowDecision(e),
            reasons: reasons(e),
            unevaluated: [...new Set(e.sides.flatMap((s) => s.unevaluated))],
          });
        }
      }
    }
  }
  return { probes, closedPorts: closed, notes: [...notes].sort() };
}
