/**
 * The guards `push` runs for the whole fleet before writing a policy (the fleet's version of apply's SSH
 * guard): on every host, a new SSH connection from each admin network must be accepted by the input chain, and
 * the agent's new connections to each etcd member by the output chain. Pure: evaluates compiled rulesets.
 */
import ipaddr from 'ipaddr.js';
import type { ControlPlane } from '../compile/control-plane.ts';
import type { Ruleset } from '../compile/ir.ts';
import { evaluateChain } from '../explain/evaluate.ts';
import type { Host } from '../inventory/types.ts';

export const SSH_PORT = 22;

export interface GuardProblem {
  host: string;
  message: string;
}

/** One address inside each network, standing for it (the first host address, the network's own for /32 and /128). */
export function representative(cidr: string): string {
  const [address, bits] = ipaddr.parseCIDR(cidr);
  const bytes = address.toByteArray();
  const width = bytes.length * 8;
  if (bits < width) {
    const network = address.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(cidr) : ipaddr.IPv6.networkAddressFromCIDR(cidr);
    const raw = network.toByteArray();
    raw[raw.length - 1] = (raw[raw.length - 1] ?? 0) + 1;
    return ipaddr.fromByteArray(raw).toString();
  }
  return address.toString();
}

function by(rs: Ruleset, verdict: ReturnType<typeof evaluateChain>): string {
  const origin = verdict.rule?.origin;
  if (origin === undefined) return 'the chain policy';
  if (origin.kind === 'rule' || origin.kind === 'raw') return `${origin.kind} rule "${origin.rule}"`;
  if (origin.kind === 'failsafe') return `failsafe ${origin.direction} #${origin.index + 1}`;
  return `the ${origin.kind} rule of ${rs.host}`;
}

/** Each admin network's representative, per list: push guards 100,000 hosts one by one with the same list. */
const representatives = new WeakMap<readonly string[], string[]>();

function representativesOf(networks: readonly string[]): string[] {
  let found = representatives.get(networks);
  if (found === undefined) {
    found = networks.map(representative);
    representatives.set(networks, found);
  }
  return found;
}

/** Every host whose ruleset would drop SSH from an admin network, or its agent's etcd traffic. */
export function fleetGuardProblems(rulesets: readonly Ruleset[], hosts: readonly Host[], adminNetworks: readonly string[], plane: ControlPlane | undefined): GuardProblem[] {
  const problems: GuardProblem[] = [];
  const byName = new Map(hosts.map((h) => [h.name, h]));
  for (const rs of rulesets) {
    const host = byName.get(rs.host);
    if (host === undefined) continue;
    const iif = host.lan ?? null;
    if (rs.chains.some((c) => c.name === 'input')) {
      const saddrs = representativesOf(adminNetworks);
      for (const [i, network] of adminNetworks.entries()) {
        const saddr = saddrs[i] as string;
        const family = saddr.includes(':') ? 6 : 4;
        const daddr = (family === 4 ? host.addresses.v4 : host.addresses.v6)[0];
        if (daddr === undefined) continue;
        const verdict = evaluateChain(rs, 'input', { family, saddr, daddr, protocol: 'tcp', dport: SSH_PORT, sport: 40000, iif, oif: null, uid: null });
        if (!verdict.accepted) problems.push({ host: rs.host, message: `would drop SSH from the admin network ${network} (tcp ${saddr} -> ${daddr}:${SSH_PORT}, by ${by(rs, verdict)})` });
      }
    }
    if (plane !== undefined && rs.chains.some((c) => c.name === 'output')) {
      /* Loopback members are reached over lo, which the base rules accept. */
      for (const member of plane.members.filter((m) => ipaddr.parse(m.address).range() !== 'loopback')) {
        const family = member.address.includes(':') ? 6 : 4;
        const saddr = (family === 4 ? host.addresses.v4 : host.addresses.v6)[0] ?? (family === 4 ? '0.0.0.0' : '::');
        const verdict = evaluateChain(rs, 'output', { family, saddr, daddr: member.address, protocol: 'tcp', dport: member.port, sport: 40000, iif: null, oif: iif, uid: 0 });
        if (!verdict.accepted) problems.push({ host: rs.host, message: `would drop its agent's etcd traffic (tcp -> ${member.address}:${member.port}, by ${by(rs, verdict)})` });
      }
    }
  }
  return problems;
}

/** The admin networks when none are configured: where the policy's SSH failsafe admits from (anywhere if it has no peers). */
export function defaultAdminNetworks(failsafeIn: ReadonlyArray<{ protocol: string; dport: Array<{ from: number; to: number }> | null; peers: Array<{ cidr: string }> | null }>): string[] {
  const ssh = failsafeIn.filter((e) => e.protocol === 'tcp' && (e.dport === null || e.dport.some((r) => r.from <= SSH_PORT && SSH_PORT <= r.to)));
  const peers = ssh.flatMap((e) => (e.peers === null ? ['0.0.0.0/0'] : e.peers.map((p) => p.cidr)));
  return peers.length === 0 ? ['0.0.0.0/0'] : [...new Set(peers)];
}
