/** Walks a ruleset's chains for one new packet, exactly as the renderers' rules would, and says what decides. */
import type { Family, IrRule, Match, Ruleset } from '../compile/ir.ts';
import { networksContain } from '../compile/networks.ts';
import type { PortRange, Protocol } from '../policy/types.ts';
import { interfaceMatches } from '../policy/container-settings.ts';

/** The first packet of a new flow (conntrack state NEW). */
export interface Packet {
  family: Family;
  saddr: string;
  daddr: string;
  protocol: Exclude<Protocol, 'all'>;
  dport: number | null;
  sport: number | null;
  /** Input: the interface the packet arrives on. */
  iif: string | null;
  /** Output: the interface the packet leaves by. */
  oif: string | null;
  /** Output: the uid owning the socket, null when unknown. */
  uid: number | null;
  /** Output: the cgroup v2 path of the socket (`system.slice/nginx.service`), null when unknown. */
  cgroup?: string | null;
  /** icmp / icmpv6: the message type (nft name); absent: echo-request, what ping sends. */
  icmpType?: string;
  /**
   * Forward: the connection was DNAT'd (a published port): `daddr` and `dport` above are the original
   * destination (the host's address, the published port), these the destination after the DNAT (the container's).
   */
  dnat?: { daddr: string; dport: number | null };
}

export type Decision = 'accept' | 'drop' | 'reject';

export interface ChainVerdict {
  accepted: boolean;
  /** What happens to the packet: a reject answers (TCP reset, ICMP), a drop is silent. */
  decision: Decision;
  /** The rule that decided; null when the base chain's policy (accept) did. */
  rule: IrRule | null;
  /** The chain the deciding rule is in. */
  chain: string;
  /** Log prefixes the packet hit on its way. */
  logged: string[];
  /** Raw rules on the way: backend text that explain does not evaluate. */
  unevaluated: string[];
  /** The deciding rule is rate limited: what decides the packets beyond its limit. */
  beyondLimit?: ChainVerdict;
}

interface Trail {
  logged: string[];
  unevaluated: string[];
}

const inRanges = (port: number | null, ranges: readonly PortRange[]): boolean =>
  port !== null && ranges.some((r) => port >= r.from && port <= r.to);

/** `overLimit`: the packet is beyond every rate limit (what happens to the excess). */
function matches(match: Match, packet: Packet, rs: Ruleset, overLimit: boolean): boolean {
  switch (match.kind) {
    case 'iif':
      return packet.iif !== null && interfaceMatches(match.name, packet.iif);
    case 'oif':
      return packet.oif !== null && interfaceMatches(match.name, packet.oif);
    case 'saddr':
    case 'daddr': {
      const set = rs.sets.find((s) => s.name === match.set);
      const address = match.kind === 'saddr' ? packet.saddr : (packet.dnat?.daddr ?? packet.daddr);
      return set !== undefined && packet.family === match.family && networksContain(set.elements, address, match.family);
    }
    case 'saddr-net':
    case 'daddr-net':
      return packet.family === match.family && networksContain(match.cidrs, match.kind === 'saddr-net' ? packet.saddr : (packet.dnat?.daddr ?? packet.daddr), match.family);
    case 'proto':
      return packet.protocol === match.protocol;
    case 'dport':
      return inRanges(packet.dnat === undefined ? packet.dport : packet.dnat.dport, match.ports);
    case 'orig-dport':
      return inRanges(packet.dport, match.ports);
    case 'ct-dnat':
      return packet.dnat !== undefined && packet.family === match.family && match.addresses.includes(packet.daddr);
    case 'sport':
      return inRanges(packet.sport, match.ports);
    case 'icmp-type':
      return match.types.includes(packet.icmpType ?? 'echo-request');
    case 'skuid':
      return packet.uid === match.uid;
    case 'cgroup':
      return packet.cgroup === match.path || (packet.cgroup ?? '').startsWith(`${match.path}/`);
    case 'limit':
      return !overLimit;
    case 'ct-established':
    case 'icmpv6-link':
      return false;
  }
}

function walk(rs: Ruleset, chainName: string, packet: Packet, trail: Trail, overLimit: boolean): Omit<ChainVerdict, 'beyondLimit'> | null {
  const chain = rs.chains.find((c) => c.name === chainName);
  if (chain === undefined) throw new Error(`ruleset of ${rs.host} has no chain ${chainName}`);
  for (const rule of chain.rules) {
    if (rule.raw !== undefined) {
      trail.unevaluated.push(rule.origin.kind === 'raw' ? rule.origin.rule : 'raw rule');
      continue;
    }
    if (!rule.matches.every((m) => matches(m, packet, rs, overLimit))) continue;
    const verdict = rule.verdict;
    if (verdict.kind === 'log') trail.logged.push(verdict.prefix);
    else if (verdict.kind === 'jump') {
      const decided = walk(rs, verdict.chain, packet, trail, overLimit);
      if (decided !== null) return decided;
    } else if (verdict.kind === 'goto') return walk(rs, verdict.chain, packet, trail, overLimit);
    else return { accepted: verdict.kind === 'accept', decision: verdict.kind, rule, chain: chainName, ...trail };
  }
  return null;
}

export type Hook = 'input' | 'output' | 'forward';

function evaluate(rs: Ruleset, hook: Hook, packet: Packet, overLimit: boolean): Omit<ChainVerdict, 'beyondLimit'> {
  const trail: Trail = { logged: [], unevaluated: [] };
  if (!rs.chains.some((c) => c.name === hook)) return { accepted: true, decision: 'accept', rule: null, chain: hook, ...trail };
  return walk(rs, hook, packet, trail, overLimit) ?? { accepted: true, decision: 'accept', rule: null, chain: hook, ...trail };
}

/**
 * Evaluates a base chain (`input`, `output` or `forward`, which a ruleset may not have); a packet no rule decides meets the chain policy, accept. A packet
 * within every rate limit is evaluated; when a rate-limited rule decides it, `beyondLimit` says what decides the excess.
 */
export function evaluateChain(rs: Ruleset, hook: Hook, packet: Packet): ChainVerdict {
  const within = evaluate(rs, hook, packet, false);
  if (within.rule === null || !within.rule.matches.some((m) => m.kind === 'limit')) return within;
  return { ...within, beyondLimit: evaluate(rs, hook, packet, true) };
}
