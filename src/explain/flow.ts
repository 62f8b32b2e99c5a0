/** `palisade explain SRC DST PORT/PROTO`: both ends of a flow, each through its own host's ruleset. */
import ipaddr from 'ipaddr.js';
import type { FleetCompiler } from '../compile/compile.ts';
import { AUDIT_PREFIX } from '../layout.ts';
import type { Family, IrRule } from '../compile/ir.ts';
import type { Host } from '../inventory/types.ts';
import type { Protocol } from '../policy/types.ts';
import { serviceCgroup } from '../policy/rule-fields.ts';
import { evaluateChain, type ChainVerdict, type Decision, type Packet } from './evaluate.ts';
import { describeOrigin } from '../compile/origin.ts';

export interface FlowQuery {
  source: string;
  destination: string;
  protocol: Exclude<Protocol, 'all'>;
  port: number | null;
  sourcePort: number | null;
  /** The local user on the source host that owns the socket. */
  user: string | null;
  /** The systemd unit on the source host whose process owns the socket. */
  service?: string | null;
  family: Family | null;
  /**
   * The destination publishes the port by DNAT (Docker, kube-proxy) to this container address and port: its
   * forward chain decides (settings.containers), not its input chain.
   */
  dnat?: { address: string; port: number } | null;
}

export interface FlowEnd {
  host: string | null;
  address: string;
  interface: string | null;
}

export interface SideExplanation {
  host: string;
  direction: 'out' | 'in';
  accepted: boolean;
  /** accept, drop (silent: the sender times out) or reject (answered: connection refused). */
  decision: Decision;
  /** What decided, in words: a rule name, the failsafe, or the default policy. */
  decidedBy: string;
  kind: 'rule' | 'failsafe' | 'base' | 'default' | 'raw';
  chain: string;
  logged: string[];
  unevaluated: string[];
  /** What the ruleset leaves out that bears on this flow (a service rule inactive: its unit is not running). */
  notes?: string[];
  /** The deciding rule is rate limited: its limit, and what decides the packets beyond it. */
  beyondLimit?: { limit: string; decision: Decision; decidedBy: string };
  /** A published port: the container address and port the host DNATs it to. */
  published?: string;
}

export interface FlowExplanation {
  source: FlowEnd;
  destination: FlowEnd;
  protocol: string;
  port: number | null;
  user: string | null;
  allowed: boolean;
  sides: SideExplanation[];
}

export class ExplainError extends Error {}

interface Located {
  host: Host | null;
  addresses: string[];
}

function locate(compiler: FleetCompiler, hosts: readonly Host[], what: string): Located {
  const named = compiler.host(what);
  if (named !== undefined) return { host: named, addresses: [...named.addresses.v4, ...named.addresses.v6] };
  if (!ipaddr.isValid(what)) throw new ExplainError(`"${what}" is neither an inventory host nor an IP address`);
  const address = ipaddr.parse(what).toString();
  const owner = hosts.find((h) => Object.values(h.interfaces).some((list) => list.includes(address)));
  return { host: owner ?? null, addresses: [address] };
}

const familyOf = (address: string): Family => (address.includes(':') ? 6 : 4);

function interfaceOf(host: Host | null, address: string): string | null {
  if (host === null) return null;
  const found = Object.entries(host.interfaces).find(([, list]) => list.includes(address));
  return found?.[0] ?? host.lan ?? null;
}

function describe(rule: IrRule | null, hook: 'input' | 'output', accepted: boolean, audited: boolean, forwardless = false): Pick<SideExplanation, 'decidedBy' | 'kind'> {
  if (rule === null && forwardless) return { decidedBy: 'nothing in palisade: settings.containers is off, published ports bypass the inbound rules', kind: 'default' };
  if (rule === null) return { decidedBy: 'the chain policy (accept): nothing in palisade drops it', kind: 'default' };
  const origin = rule.origin;
  switch (origin.kind) {
    case 'default': {
      /* The default policy, worded with the settings that make it. */
      const setting = hook === 'input' ? 'input_drop' : 'output_drop';
      if (audited) return { decidedBy: `audit mode: the default policy (${setting}: true) would drop it; accepted and logged`, kind: 'default' };
      const action = origin.policy === 'reject' ? ', default_action: reject' : '';
      return { decidedBy: `the default policy (${setting}: ${accepted ? 'false' : 'true'}${action})`, kind: 'default' };
    }
    case 'log':
      return { decidedBy: describeOrigin(origin), kind: 'base' };
    default:
      return { decidedBy: describeOrigin(origin), kind: origin.kind };
  }
}

const audited = (verdict: ChainVerdict): boolean => verdict.logged.some((prefix) => prefix.startsWith(AUDIT_PREFIX));

function limitText(rule: IrRule | null): string {
  const limit = rule?.matches.find((m) => m.kind === 'limit');
  if (limit === undefined || limit.kind !== 'limit') return '';
  return `${limit.rate}/${limit.unit} (burst ${limit.burst}${limit.per === 'rule' ? '' : `, per ${limit.per}`})`;
}

function side(host: Host, direction: 'in' | 'out', verdict: ChainVerdict, forwardless = false): SideExplanation {
  const hook = direction === 'in' ? 'input' : 'output';
  const beyond = verdict.beyondLimit;
  return {
    host: host.name,
    direction,
    accepted: verdict.accepted,
    decision: verdict.decision,
    ...describe(verdict.rule, hook, verdict.accepted, audited(verdict), forwardless),
    chain: verdict.chain,
    logged: verdict.logged,
    unevaluated: verdict.unevaluated,
    ...(beyond === undefined
      ? {}
      : { beyondLimit: { limit: limitText(verdict.rule), decision: beyond.decision, decidedBy: describe(beyond.rule, hook, beyond.accepted, audited(beyond)).decidedBy } }),
  };
}

const VERB: Record<Decision, string> = { accept: 'accepted', drop: 'dropped', reject: 'rejected' };

export function explainFlow(compiler: FleetCompiler, hosts: readonly Host[], query: FlowQuery): FlowExplanation {
  const src = locate(compiler, hosts, query.source);
  const dst = locate(compiler, hosts, query.destination);
  const families: Family[] = query.family !== null ? [query.family] : [4, 6];
  const family = families.find((f) => src.addresses.some((a) => familyOf(a) === f) && dst.addresses.some((a) => familyOf(a) === f));
  if (family === undefined) {
    throw new ExplainError(`${query.source} and ${query.destination} have no address of a common family${query.family === null ? '' : ` (IPv${query.family} asked)`}`);
  }
  if (query.protocol === 'icmp' && family !== 4) throw new ExplainError('icmp is IPv4; use icmpv6 for IPv6');
  if (query.protocol === 'icmpv6' && family !== 6) throw new ExplainError('icmpv6 is IPv6; use icmp for IPv4');
  const saddr = src.addresses.find((a) => familyOf(a) === family) as string;
  const daddr = dst.addresses.find((a) => familyOf(a) === family) as string;
  let uid: number | null = null;
  if (query.user !== null) {
    if (src.host === null) throw new ExplainError(`--user needs a source host from the inventory; ${query.source} is not one`);
    const found = src.host.users[query.user];
    if (found === undefined) throw new ExplainError(`user "${query.user}" does not exist on ${src.host.name}`);
    uid = found;
  }
  const cgroup = query.service == null ? null : serviceCgroup(query.service);
  const packet: Omit<Packet, 'iif' | 'oif'> = { family, saddr, daddr, protocol: query.protocol, dport: query.port, sport: query.sourcePort, uid, cgroup };
  const sides: SideExplanation[] = [];
  if (src.host !== null) {
    const rs = compiler.compile(src.host.name);
    const out = side(src.host, 'out', evaluateChain(rs, 'output', { ...packet, iif: null, oif: interfaceOf(src.host, saddr) }));
    const unit = query.service == null ? null : ` inactive: unit ${query.service} is not running`;
    const inactive = unit === null ? [] : rs.warnings.filter((w) => w.includes(unit));
    if (inactive.length > 0) out.notes = inactive.map((w) => `service ${w}`);
    sides.push(out);
  }
  const dnat = query.dnat ?? null;
  if (dnat !== null && familyOf(dnat.address) !== family) throw new ExplainError(`the DNAT address ${dnat.address} is not of the flow's family (IPv${family})`);
  if (dst.host !== null && dnat !== null) {
    const rs = compiler.compile(dst.host.name);
    const verdict = evaluateChain(rs, 'forward', { ...packet, uid: null, cgroup: null, iif: interfaceOf(dst.host, daddr), oif: null, dnat: { daddr: dnat.address, dport: dnat.port } });
    const to = family === 6 ? `[${dnat.address}]:${dnat.port}` : `${dnat.address}:${dnat.port}`;
    sides.push({ ...side(dst.host, 'in', verdict, !rs.chains.some((c) => c.hook === 'forward')), published: to });
  } else if (dst.host !== null) {
    const rs = compiler.compile(dst.host.name);
    sides.push(side(dst.host, 'in', evaluateChain(rs, 'input', { ...packet, uid: null, cgroup: null, iif: interfaceOf(dst.host, daddr), oif: null })));
  } else if (dnat !== null) throw new ExplainError(`--dnat: ${query.destination} is not an inventory host, so palisade does not filter what it publishes`);
  if (sides.length === 0) throw new ExplainError('neither end is an inventory host: palisade filters neither');
  return {
    source: { host: src.host?.name ?? null, address: saddr, interface: interfaceOf(src.host, saddr) },
    destination: { host: dst.host?.name ?? null, address: daddr, interface: interfaceOf(dst.host, daddr) },
    protocol: query.protocol,
    port: query.port,
    user: query.user,
    allowed: sides.every((s) => s.accepted),
    sides,
  };
}

export function formatExplanation(e: FlowExplanation): string {
  const end = (x: FlowEnd): string => (x.host === null ? x.address : `${x.host} (${x.address})`);
  const what = `${e.protocol}${e.port === null ? '' : `/${e.port}`}`;
  const lines = [`${end(e.source)} -> ${end(e.destination)} ${what}${e.user === null ? '' : ` as user ${e.user}`}: ${e.allowed ? 'ALLOWED' : 'DENIED'}`];
  for (const s of e.sides) {
    const where = s.chain === 'input' || s.chain === 'output' ? '' : ` (chain ${s.chain})`;
    const published = s.published === undefined ? '' : `published port, DNAT to ${s.published}, `;
    lines.push(`  ${s.direction} on ${s.host}: ${published}${VERB[s.decision]} by ${s.decidedBy}${where}${s.logged.length > 0 ? `, logged as ${s.logged.join(', ')}` : ''}`);
    if (s.beyondLimit !== undefined) {
      lines.push(`    rate-limited to ${s.beyondLimit.limit}: beyond it the packet falls through and is ${VERB[s.beyondLimit.decision]} by ${s.beyondLimit.decidedBy}`);
    }
    if (s.unevaluated.length > 0) lines.push(`    note: raw rules not evaluated on the way: ${s.unevaluated.join(', ')}`);
    for (const note of s.notes ?? []) lines.push(`    note: ${note}`);
  }
  return lines.join('\n');
}
