/** Walks a ruleset's chains for one new packet, exactly as the renderers' rules would, and says what decides. */
import type { Family, IrRule, Match, Ruleset } from '../compile/ir.ts';
import { networksContain } from '../compile/networks.ts';
import type { PortRange, Protocol } from '../policy/types.ts';

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
}

export interface ChainVerdict {
  accepted: boolean;
  /** The rule that decided; null when the base chain's policy (accept) did. */
  rule: IrRule | null;
  /** The chain the deciding rule is in. */
  chain: string;
  /** Log prefixes the packet hit on its way. */
  logged: string[];
  /** Raw rules on the way: backend text that explain does not evaluate. */
  unevaluated: string[];
}

const inRanges = (port: number | null, ranges: readonly PortRange[]): boolean =>
  port !== null && ranges.some((r) => port >= r.from && port <= r.to);

function matches(match: Match, packet: Packet, rs: Ruleset): boolean {
  switch (match.kind) {
    case 'iif':
      return packet.iif === match.name;
    case 'oif':
      return packet.oif === match.name;
    case 'saddr':
    case 'daddr': {
      const set = rs.sets.find((s) => s.name === match.set);
      const address = match.kind === 'saddr' ? packet.saddr : packet.daddr;
      return set !== undefined && packet.family === match.family && networksContain(set.elements, address, match.family);
    }
    case 'saddr-net':
    case 'daddr-net':
      return packet.family === match.family && networksContain(match.cidrs, match.kind === 'saddr-net' ? packet.saddr : packet.daddr, match.family);
    case 'proto':
      return packet.protocol === match.protocol;
    case 'dport':
      return inRanges(packet.dport, match.ports);
    case 'sport':
      return inRanges(packet.sport, match.ports);
    case 'skuid':
      return packet.uid === match.uid;
    case 'ct-established':
    case 'icmpv6-link':
      return false;
  }
}

function walk(rs: Ruleset, chainName: string, packet: Packet, trail: Omit<ChainVerdict, 'accepted' | 'rule' | 'chain'>): ChainVerdict | null {
  const chain = rs.chains.find((c) => c.name === chainName);
  if (chain === undefined) throw new Error(`ruleset of ${rs.host} has no chain ${chainName}`);
  for (const rule of chain.rules) {
    if (rule.raw !== undefined) {
      trail.unevaluated.push(rule.origin.kind === 'raw' ? rule.origin.rule : 'raw rule');
      continue;
    }
    if (!rule.matches.every((m) => matches(m, packet, rs))) continue;
    const verdict = rule.verdict;
    if (verdict.kind === 'log') trail.logged.push(verdict.prefix);
    else if (verdict.kind === 'jump') {
      const decided = walk(rs, verdict.chain, packet, trail);
      if (decided !== null) return decided;
    } else return { accepted: verdict.kind === 'accept', rule, chain: chainName, ...trail };
  }
  return null;
}

/** Evaluates a base chain (`input` or `output`); a packet no rule decides meets the chain policy, accept. */
export function evaluateChain(rs: Ruleset, hook: 'input' | 'output', packet: Packet): ChainVerdict {
  const trail = { logged: [], unevaluated: [] };
  return walk(rs, hook, packet, trail) ?? { accepted: true, rule: null, chain: hook, ...trail };
}
