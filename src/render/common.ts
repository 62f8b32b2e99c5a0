/** What both renderers share: log rate limits, protocol names and the checks on a rule's layer-4 matches. */
import type { IrChain, IrRule, Match, Ruleset } from '../compile/ir.ts';
import type { PortRange, Protocol } from '../policy/types.ts';
import { InternalError } from '../diagnostics.ts';
import { checkName } from './escape.ts';

/** Dropped-packet logging is rate limited so a flood cannot fill the disk. */
export const LOG_RATE_PER_SECOND = 10;
export const LOG_BURST = 20;
/** How long a flow stays in audit mode's per-flow log meter after its last packet. */
export const AUDIT_FLOW_TIMEOUT_SECONDS = 60;

/** Names both `nft` (`meta l4proto`) and `iptables -p` accept without /etc/protocols. */
export const L4_PROTOCOL: Record<Exclude<Protocol, 'all'>, string> = {
  tcp: 'tcp',
  udp: 'udp',
  icmp: 'icmp',
  icmpv6: 'ipv6-icmp',
  vrrp: '112',
  ospf: '89',
};

export type PortMatch = Extract<Match, { kind: 'dport' | 'sport' }>;

export function isPortMatch(match: Match): match is PortMatch {
  return match.kind === 'dport' || match.kind === 'sport';
}

/**
 * The protocol the rule's port matches belong to: null when it has none. Throws unless the rule has one
 * tcp or udp protocol match before its port matches and no empty port list.
 */
export function portProtocol(rule: IrRule): 'tcp' | 'udp' | null {
  const first = rule.matches.findIndex(isPortMatch);
  if (first === -1) return null;
  const protos = rule.matches.filter((m): m is Extract<Match, { kind: 'proto' }> => m.kind === 'proto');
  const proto = protos[0];
  if (protos.length !== 1 || proto === undefined || (proto.protocol !== 'tcp' && proto.protocol !== 'udp')) {
    throw new InternalError('a rule with port matches needs exactly one tcp or udp protocol match');
  }
  if (rule.matches.indexOf(proto) > first) throw new InternalError('a rule\'s protocol match must come before its port matches');
  for (const match of rule.matches) {
    if (isPortMatch(match)) checkPorts(match.ports);
  }
  return proto.protocol;
}

function checkPorts(ports: readonly PortRange[]): void {
  if (ports.length === 0) throw new InternalError('empty port list');
  for (const { from, to } of ports) {
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > 65535 || from > to) {
      throw new InternalError(`invalid port range ${from}-${to}`);
    }
  }
}

export function checkUid(uid: number): number {
  if (!Number.isInteger(uid) || uid < 0 || uid > 0xffffffff) throw new InternalError(`invalid uid ${uid}`);
  return uid;
}

/** The chains a jump may target: the ruleset's unhooked chains. */
export function jumpTargets(rs: Ruleset): Map<string, IrChain> {
  return new Map(rs.chains.filter((c) => c.hook === null).map((c) => [c.name, c]));
}

export function checkJumpTarget(targets: ReadonlyMap<string, IrChain>, name: string): IrChain {
  const chain = targets.get(name);
  if (chain === undefined) throw new InternalError(`jump to "${name}", which is not a user chain of the ruleset`);
  return chain;
}

/** A cgroup path as validated upstream (unit names below system.slice): no quote, no `..`, no leading `/`. */
export function checkCgroupPath(path: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9:_.@/-]{0,500}$/.test(path) || path.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new InternalError(`unsafe cgroup path ${JSON.stringify(path)}`);
  }
  return path;
}

/**
 * An interface name as a renderer writes it: checked like every name, a trailing `*` (a prefix: `br-*`) written
 * as the backend's wildcard (nft `*`, iptables `+`).
 */
export function interfaceText(name: string, wildcard: '*' | '+'): string {
  if (!name.endsWith('*')) return checkName('interface', name);
  return `${checkName('interface', name.slice(0, -1))}${wildcard}`;
}

/** The tcp or udp protocol an original-port match (`ct original proto-dst`) needs before it. */
export function origPortProtocol(rule: IrRule): 'tcp' | 'udp' {
  const proto = rule.matches.find((m): m is Extract<Match, { kind: 'proto' }> => m.kind === 'proto');
  const at = rule.matches.findIndex((m) => m.kind === 'orig-dport');
  if (proto === undefined || (proto.protocol !== 'tcp' && proto.protocol !== 'udp') || rule.matches.indexOf(proto) > at) {
    throw new InternalError('an original destination port match needs a tcp or udp protocol match before it');
  }
  for (const match of rule.matches) if (match.kind === 'orig-dport') checkPorts(match.ports);
  return proto.protocol;
}

/** Rate limits as both nft (`10/minute`) and iptables (`10/minute`) write them. */
export function rateText(limit: { rate: number; unit: string }): string {
  if (!Number.isInteger(limit.rate) || limit.rate < 1) throw new InternalError(`invalid rate ${limit.rate}`);
  return `${limit.rate}/${limit.unit}`;
}
