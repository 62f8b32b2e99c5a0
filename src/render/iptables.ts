/**
 * Ruleset IR → the iptables backend's structures: palisade's tables (its chains, their rules, the jumps from the
 * built-in chains) for IPv4 and IPv6, and its ipsets; `toText()` gives the files for `ipset restore`,
 * `iptables-restore --noflush` and `ip6tables-restore --noflush` (DESIGN.md "Kernel layout"). The kernel backend
 * plans on the structures; only palisade's own chains are declared (which, with --noflush, flushes just those),
 * jumped to from the first position of the built-in chains. Pure and byte-deterministic.
 */
import type { Family, IrChain, IrRawIptables, IrRule, IrSet, Match, Ruleset, Verdict } from '../compile/ir.ts';
import { InternalError } from '../diagnostics.ts';
import { auditMeterName, CONTAINERS_CHAIN, IPTABLES_BUILTIN_CHAINS, PUBLISHED_CHAIN, iptablesOwnChain, iptablesUserChain, type IptablesTableName } from '../layout.ts';
import type { PortRange } from '../policy/types.ts';
import { AUDIT_FLOW_TIMEOUT_SECONDS, L4_PROTOCOL, LOG_BURST, LOG_RATE_PER_SECOND, checkCgroupPath, checkJumpTarget, checkUid, interfaceText, jumpTargets, origPortProtocol, portProtocol, rateText, type PortMatch } from './common.ts';
import { icmpTypeNumber } from '../policy/icmp-types.ts';
import { checkName, checkRawText, safeComment, shorten } from './escape.ts';
import type { SharedSets } from './shared-sets.ts';

export interface IptablesFiles {
  /** For `ipset restore`, loaded first: the rules refer to its sets. */
  ipset: string;
  /** For `iptables-restore --noflush`. */
  v4: string;
  /** For `ip6tables-restore --noflush`. */
  v6: string;
}

export type { IptablesTableName };

/** A rule of one of palisade's chains: `-A <chain> <spec>`. */
export interface IptablesRule {
  chain: string;
  spec: string;
}

/** A jump from a built-in chain to one of palisade's, the first rule of the built-in chain. */
export interface IptablesJump {
  from: string;
  to: string;
}

/** palisade's part of one table: its chains (declared, so --noflush flushes them), their rules, the jumps to them. */
export interface IptablesTable {
  name: IptablesTableName;
  chains: string[];
  rules: IptablesRule[];
  jumps: IptablesJump[];
}

/** An ipset of palisade's (hash:net), with the elements as ipset takes them. */
export interface Ipset {
  name: string;
  family: Family;
  elements: string[];
}

/** What the iptables backend loads: sets first, then the tables of each family. */
export class IptablesRuleset {
  /** `shared`: the sets' text of a fleet run, each written once for every host that has the set. */
  constructor(
    readonly sets: Ipset[],
    readonly v4: IptablesTable[],
    readonly v6: IptablesTable[],
    private readonly shared?: SharedSets,
  ) {}

  toText(): IptablesFiles {
    const shared = this.shared;
    const sets = this.sets.map((set) => (shared === undefined ? ipsetText(set) : shared.ipsetText(set, ipsetText)));
    return { ipset: file(sets), v4: file(this.v4.flatMap(tableLines)), v6: file(this.v6.flatMap(tableLines)) };
  }
}

export const IPTABLES_TABLES_V4 = Object.keys(IPTABLES_BUILTIN_CHAINS) as readonly IptablesTableName[];
export const IPTABLES_TABLES_V6: readonly IptablesTableName[] = ['filter'];

/** iptables chain names: XT_EXTENSION_MAXNAMELEN - 1. */
export const IPTABLES_CHAIN_MAX = 28;
/** The LOG target's prefix holds 29 characters; ours ends with a space. */
export const IPTABLES_LOG_PREFIX_MAX = 29;
/** The NFLOG target's prefix holds 64 characters with its NUL. */
export const NFLOG_PREFIX_MAX = 63;
/**
 * One cap for every set (ipset's default is 65,536): a set grows by element updates without being
 * recreated, and a fixed value keeps `create -exist` and `swap` between renderings compatible. It is a
 * limit, not an allocation.
 */
export const IPSET_MAXELEM = 1_048_576;
/** XT_MAX_COMMENT_LEN (256) counts the terminating NUL. */
export const IPTABLES_COMMENT_MAX = 255;
/** The multiport match takes at most 15 ports; a range counts as two. */
export const MULTIPORT_MAX = 15;

const BUILTIN_CHAIN = { input: 'INPUT', output: 'OUTPUT', forward: 'FORWARD' } as const;
/** Neighbour discovery by name; MLD (130-132, and 143 for MLDv2) by number: ip6tables has no names for them. */
const LINK_TYPES = ['neighbour-solicitation', 'neighbour-advertisement', 'router-solicitation', 'router-advertisement', '130', '131', '132', '143'];

/** palisade's chain for a built-in chain (INPUT → PALISADE-INPUT) or a user (www-data → PALISADE-U-www-data). */
export function iptablesChainName(chain: IrChain): string {
  const part = chain.forward === 'published' ? PUBLISHED_CHAIN : chain.forward === 'containers' ? CONTAINERS_CHAIN : null;
  const name =
    chain.hook !== null ? iptablesOwnChain(BUILTIN_CHAIN[chain.hook]) : part !== null ? iptablesOwnChain(part.toUpperCase()) : iptablesUserChain(chain.user?.name ?? chain.name);
  return checkName('chain', shorten(name, IPTABLES_CHAIN_MAX));
}

function chainNames(rs: Ruleset): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const chain of rs.chains) {
    const name = iptablesChainName(chain);
    if (taken.has(name) || names.has(chain.name)) throw new InternalError(`two chains render as iptables chain ${name}`);
    taken.add(name);
    names.set(chain.name, name);
  }
  return names;
}

/** The family a rule's matches restrict it to; null: both. */
function ruleFamily(rule: IrRule): Family | null {
  const implied = rule.matches.flatMap((m): Family[] => {
    switch (m.kind) {
      case 'saddr':
      case 'daddr':
      case 'saddr-net':
      case 'daddr-net':
      case 'ct-dnat':
        return [m.family];
      case 'proto':
        return m.protocol === 'icmp' ? [4] : m.protocol === 'icmpv6' ? [6] : [];
      case 'icmpv6-link':
        return [6];
      default:
        return [];
    }
  });
  const families = new Set(implied);
  if (families.size > 1) throw new InternalError('a rule matches both IPv4 and IPv6 only traffic');
  return implied[0] ?? null;
}

function port({ from, to }: PortRange): string {
  return from === to ? `${from}` : `${from}:${to}`;
}

/** Port lists cut into multiport-sized pieces, in order. */
function portChunks(ports: readonly PortRange[]): PortRange[][] {
  const chunks: PortRange[][] = [];
  let current: PortRange[] = [];
  let weight = 0;
  for (const range of ports) {
    const w = range.from === range.to ? 1 : 2;
    if (weight + w > MULTIPORT_MAX) {
      chunks.push(current);
      current = [];
      weight = 0;
    }
    current.push(range);
    weight += w;
  }
  chunks.push(current);
  return chunks;
}

function renderPorts(match: PortMatch): string[] {
  return portChunks(match.ports).map((chunk) =>
    chunk.length === 1 ? `--${match.kind} ${port(chunk[0] as PortRange)}` : `-m multiport --${match.kind}s ${chunk.map(port).join(',')}`,
  );
}

/** The alternatives a match renders to: a rule is rendered once per combination. */
function renderMatch(match: Match): string[] {
  switch (match.kind) {
    case 'iif':
      return [`-i ${interfaceText(match.name, '+')}`];
    case 'oif':
      return [`-o ${interfaceText(match.name, '+')}`];
    case 'saddr':
    case 'daddr':
      return [`-m set --match-set ${checkName('set', match.set)} ${match.kind === 'saddr' ? 'src' : 'dst'}`];
    case 'saddr-net':
    case 'daddr-net':
      if (match.cidrs.length === 0) throw new InternalError('empty network list');
      return [`${match.kind === 'saddr-net' ? '-s' : '-d'} ${match.cidrs.map((c) => checkName('address', c)).join(',')}`];
    case 'proto':
      return [`-p ${L4_PROTOCOL[match.protocol]}`];
    case 'dport':
    case 'sport':
      return renderPorts(match);
    case 'icmp-type':
      return match.types.map((t) => `--${match.protocol === 'icmp' ? 'icmp' : 'icmpv6'}-type ${icmpTypeNumber(match.protocol, t)}`);
    case 'skuid':
      return [`-m owner --uid-owner ${checkUid(match.uid)}`];
    case 'cgroup':
      return [`-m cgroup --path ${checkCgroupPath(match.path)}`];
    case 'limit':
      if (match.per === 'rule') return [`-m limit --limit ${rateText(match)} --limit-burst ${match.burst}`];
      return [
        `-m hashlimit --hashlimit-upto ${rateText(match)} --hashlimit-burst ${match.burst} --hashlimit-mode ${match.per === 'source' ? 'srcip' : 'dstip'} --hashlimit-name ${checkName('set', match.meter)}`,
      ];
    case 'ct-established':
      return ['-m conntrack --ctstate ESTABLISHED,RELATED'];
    case 'ct-dnat':
      if (match.addresses.length === 0) throw new InternalError('empty address list');
      return match.addresses.map((a) => `-m conntrack --ctstate DNAT --ctorigdst ${checkName('address', a)}`);
    case 'orig-dport':
      return match.ports.map((p) => `-m conntrack --ctorigdstport ${port(p)}`);
    case 'icmpv6-link':
      return LINK_TYPES.map((type) => `-p ipv6-icmp --icmpv6-type ${type}`);
  }
}

/**
 * `defers`: the rule is in a forward chain, where accept means "palisade does not object": RETURN to the chain that
 * jumped to palisade's (FORWARD or DOCKER-USER), so Docker's and kube-proxy's rules still decide, as with nft.
 */
function renderVerdict(verdict: Verdict, targets: ReadonlyMap<string, IrChain>, names: ReadonlyMap<string, string>, reject: string, defers: boolean, family: Family): string {
  switch (verdict.kind) {
    case 'reject':
      return reject;
    case 'accept':
      return defers ? '-j RETURN' : '-j ACCEPT';
    case 'drop':
      return '-j DROP';
    case 'jump':
    case 'goto':
      return `${verdict.kind === 'jump' ? '-j' : '-g'} ${names.get(checkJumpTarget(targets, verdict.chain).name) as string}`;
    case 'log': {
      if (verdict.group !== undefined) {
        const nflogPrefix = shorten(safeComment(verdict.prefix, Number.MAX_SAFE_INTEGER), NFLOG_PREFIX_MAX);
        /* Audit mode logs per flow (ports are 0 for protocols without them): a busy flow cannot use up the budget. */
        const perFlow = `-m hashlimit --hashlimit-upto ${LOG_RATE_PER_SECOND}/second --hashlimit-burst ${LOG_BURST} --hashlimit-mode srcip,dstip,dstport --hashlimit-name ${auditMeterName(family, true)} --hashlimit-htable-expire ${AUDIT_FLOW_TIMEOUT_SECONDS * 1000}`;
        return `${perFlow} -j NFLOG --nflog-prefix "${nflogPrefix}" --nflog-group ${verdict.group}`;
      }
      const prefix = shorten(safeComment(verdict.prefix, Number.MAX_SAFE_INTEGER), IPTABLES_LOG_PREFIX_MAX - 1);
      return `-m limit --limit ${LOG_RATE_PER_SECOND}/second --limit-burst ${LOG_BURST} -j LOG --log-prefix "${prefix} "`;
    }
  }
}

function combinations(alternatives: readonly string[][]): string[][] {
  return alternatives.reduce<string[][]>((acc, options) => acc.flatMap((prefix) => options.map((o) => [...prefix, o])), [[]]);
}

interface Rendered {
  /** Text after `-A <CHAIN> `, per family: a reject answers with its family's ICMP. */
  lines: Record<Family, string[]>;
}

/** TCP gets a reset, everything else ICMP(v6) administratively prohibited; a reject of every protocol is two rules. */
function rejectVariants(rule: IrRule, family: Family): Array<{ prefix: string[]; target: string }> {
  const other = family === 4 ? '-j REJECT --reject-with icmp-admin-prohibited' : '-j REJECT --reject-with icmp6-adm-prohibited';
  const tcp = '-j REJECT --reject-with tcp-reset';
  const proto = rule.matches.find((m) => m.kind === 'proto');
  if (rule.verdict.kind !== 'reject') return [{ prefix: [], target: '' }];
  if (proto === undefined) return [{ prefix: ['-p tcp'], target: tcp }, { prefix: [], target: other }];
  return [{ prefix: [], target: proto.protocol === 'tcp' ? tcp : other }];
}

function renderRule(rule: IrRule, targets: ReadonlyMap<string, IrChain>, names: ReadonlyMap<string, string>, defers: boolean): Rendered {
  if (rule.raw !== undefined) {
    /* Raw text may name addresses of either family; it is written for iptables, not ip6tables. */
    return { lines: { 4: rule.raw.iptables === undefined ? [] : [checkRawText(rule.raw.iptables)], 6: [] } };
  }
  /* Checked here, but `-p` is rendered from the proto match itself. */
  portProtocol(rule);
  if (rule.matches.some((m) => m.kind === 'orig-dport')) origPortProtocol(rule);
  const family = ruleFamily(rule);
  const comment = rule.comment === null ? '' : safeComment(rule.comment, IPTABLES_COMMENT_MAX);
  const alternatives = combinations(rule.matches.map(renderMatch));
  const linesFor = (f: Family): string[] => {
    if (family !== null && family !== f) return [];
    return rejectVariants(rule, f).flatMap(({ prefix, target }) => {
      const tail = [...(comment === '' ? [] : [`-m comment --comment "${comment}"`]), renderVerdict(rule.verdict, targets, names, target, defers, f)];
      return alternatives.map((parts) => [...prefix, ...parts, ...tail].join(' '));
    });
  };
  return { lines: { 4: linesFor(4), 6: linesFor(6) } };
}

interface RenderedChain {
  chain: IrChain;
  name: string;
  rules: Rendered[];
}

function filterTable(chains: readonly RenderedChain[], family: Family): IptablesTable {
  return {
    name: 'filter',
    chains: chains.map(({ name }) => name),
    rules: chains.flatMap(({ name, rules }) => rules.flatMap((r) => r.lines[family].map((spec) => ({ chain: name, spec })))),
    jumps: chains.flatMap(({ chain, name }) => (chain.hook === null ? [] : [{ from: BUILTIN_CHAIN[chain.hook], to: name }])),
  };
}

/** Raw rules of the nat, mangle and raw tables, in palisade's own chain of their built-in chain. */
function rawTables(raw: readonly IrRawIptables[]): IptablesTable[] {
  return IPTABLES_TABLES_V4.filter((t) => t !== 'filter').flatMap((name): IptablesTable[] => {
    const rules = raw.filter((r): r is IrRawIptables & { rule: string } => r.table === name && r.rule !== undefined);
    if (rules.length === 0) return [];
    const builtins = [...new Set(rules.map((r) => r.chain))];
    const known: readonly string[] = IPTABLES_BUILTIN_CHAINS[name];
    for (const chain of builtins) {
      if (!known.includes(chain)) throw new InternalError(`raw iptables rule in chain "${chain}", which is not a built-in chain of table ${name}`);
    }
    const own = (builtin: string): string => checkName('chain', shorten(iptablesOwnChain(builtin), IPTABLES_CHAIN_MAX));
    return [
      {
        name,
        chains: builtins.map(own),
        rules: rules.map((r) => ({ chain: own(r.chain), spec: checkRawText(r.rule) })),
        jumps: builtins.map((from) => ({ from, to: own(from) })),
      },
    ];
  });
}

/** One IR element as ipset elements: hash:net refuses a /0, so the whole address space goes in as its two halves. */
export function ipsetElements(element: string): string[] {
  checkName('address', element);
  if (element === '0.0.0.0/0') return ['0.0.0.0/1', '128.0.0.0/1'];
  if (element === '::/0') return ['::/1', '8000::/1'];
  return [element];
}

function ipset(set: IrSet): Ipset {
  return { name: checkName('set', set.name), family: set.family, elements: set.elements.flatMap(ipsetElements) };
}

/** What follows the set's name in `create`: the same for every set, so `create -exist` and `swap` always fit. */
export function ipsetCreateOptions(family: Family): string {
  return `hash:net family ${family === 4 ? 'inet' : 'inet6'} maxelem ${IPSET_MAXELEM}`;
}

/** The set's lines for `ipset restore`, without the last newline. */
function ipsetText(set: Ipset): string {
  return [`create ${set.name} ${ipsetCreateOptions(set.family)} -exist`, `flush ${set.name}`, ...set.elements.map((e) => `add ${set.name} ${e}`)].join('\n');
}

export const ruleLine = (rule: IptablesRule): string => `-A ${rule.chain} ${rule.spec}`;

/** One table for iptables-restore: declarations, rules, jumps inserted at the top of the built-in chains. */
function tableLines(table: IptablesTable): string[] {
  return [
    `*${table.name}`,
    ...table.chains.map((c) => `:${c} - [0:0]`),
    ...table.rules.map(ruleLine),
    ...table.jumps.map((j) => `-I ${j.from} 1 -j ${j.to}`),
    'COMMIT',
  ];
}

const file = (lines: readonly string[]): string => (lines.length === 0 ? '' : `${lines.join('\n')}\n`);

/** `shared`: the sets of a fleet run, each rendered once for every host that has the set (and its Ipset shared by them). */
export function renderIptables(rs: Ruleset, shared?: SharedSets): IptablesRuleset {
  const names = chainNames(rs);
  const targets = jumpTargets(rs);
  const chains = rs.chains.map((chain) => ({
    chain,
    name: names.get(chain.name) as string,
    rules: chain.rules.map((rule) => renderRule(rule, targets, names, chain.forward !== undefined)),
  }));
  const sets = rs.sets.map((set) => (shared === undefined ? ipset(set) : shared.ipset(set, ipset)));
  return new IptablesRuleset(sets, [filterTable(chains, 4), ...rawTables(rs.rawIptables)], [filterTable(chains, 6)], shared);
}
