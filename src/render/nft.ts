/**
 * Ruleset IR → nft script defining `table inet palisade` (DESIGN.md "Kernel layout"). The applier adds the
 * table's delete/flush lines; this is only the definition. Pure and byte-deterministic.
 */
import type { Family, IrChain, IrRule, IrSet, Match, Ruleset, Verdict } from '../compile/ir.ts';
import type { PortRange } from '../policy/types.ts';
import { AUDIT_FLOW_TIMEOUT_SECONDS, L4_PROTOCOL, LOG_BURST, LOG_RATE_PER_SECOND, checkCgroupPath, checkJumpTarget, checkUid, interfaceText, jumpTargets, origPortProtocol, portProtocol, rateText, type PortMatch } from './common.ts';
import { checkIcmpType } from '../policy/icmp-types.ts';
import { checkName, checkRawText, safeComment } from './escape.ts';
import { InputError, InternalError } from '../diagnostics.ts';
import { auditMeterName, NFT_FAMILY, NFT_TABLE, NFT_TABLE_CHAINS, nftTableChainName, type NftRawTable } from '../layout.ts';
import type { SharedSets } from './shared-sets.ts';

/** nft refuses longer rule comments. */
export const NFT_COMMENT_MAX = 128;
/** The kernel's log prefix holds 127 characters; ours ends with a space. */
export const NFT_LOG_PREFIX_MAX = 127;
/** Addresses a rate limit per source or destination tracks at once; beyond it new addresses do not match (fall through). */
export const METER_SIZE = 65535;
/** Set definitions are script comments (`#`), not loaded: only kept readable. */
const SET_DEFINITION_MAX = 256;

/** Link-local ICMPv6 control an IPv6 host cannot live without: neighbour discovery and multicast listener (MLD) messages. */
const LINK_TYPES = ['nd-neighbor-solicit', 'nd-neighbor-advert', 'nd-router-solicit', 'nd-router-advert', 'mld-listener-query', 'mld-listener-report', 'mld-listener-done', 'mld2-listener-report'];

function addressFamily(family: Family): string {
  return family === 4 ? 'ip' : 'ip6';
}

/** One element bare, several in an anonymous set. */
function list(items: readonly string[]): string {
  if (items.length === 0) throw new InternalError('empty list in an nft match');
  return items.length === 1 ? (items[0] as string) : `{ ${items.join(', ')} }`;
}

function port({ from, to }: PortRange): string {
  return from === to ? `${from}` : `${from}-${to}`;
}

function renderSet(set: IrSet): string {
  const lines = [
    `\t# ${safeComment(set.definition, SET_DEFINITION_MAX)}`,
    `\tset ${checkName('set', set.name)} {`,
    `\t\ttype ${set.family === 4 ? 'ipv4_addr' : 'ipv6_addr'}`,
  ];
  if (set.interval) lines.push('\t\tflags interval');
  if (set.elements.length > 0) {
    lines.push(`\t\telements = { ${set.elements.map((e) => checkName('address', e)).join(', ')} }`);
  }
  lines.push('\t}');
  return lines.join('\n');
}

function renderMatch(match: Match, l4: 'tcp' | 'udp' | null): string | null {
  switch (match.kind) {
    case 'iif':
      return `iifname "${interfaceText(match.name, '*')}"`;
    case 'oif':
      return `oifname "${interfaceText(match.name, '*')}"`;
    case 'saddr':
    case 'daddr':
      return `${addressFamily(match.family)} ${match.kind} @${checkName('set', match.set)}`;
    case 'saddr-net':
    case 'daddr-net':
      return `${addressFamily(match.family)} ${match.kind === 'saddr-net' ? 'saddr' : 'daddr'} ${list(match.cidrs.map((c) => checkName('address', c)))}`;
    case 'proto':
      /* `tcp dport ...` implies the protocol. */
      return l4 === null ? `meta l4proto ${L4_PROTOCOL[match.protocol]}` : null;
    case 'dport':
    case 'sport':
      return renderPorts(match, l4);
    case 'icmp-type':
      return `${match.protocol} type ${list(match.types.map((t) => checkIcmpType(match.protocol, t)))}`;
    case 'skuid':
      return `meta skuid ${checkUid(match.uid)}`;
    case 'cgroup': {
      const path = match.mount === '' ? checkCgroupPath(match.path) : `${checkCgroupPath(match.mount)}/${checkCgroupPath(match.path)}`;
      if (!Number.isInteger(match.level) || match.level < 1 || match.level > 255) throw new InternalError(`invalid cgroup level ${match.level}`);
      return `socket cgroupv2 level ${match.level} "${path}"`;
    }
    case 'limit': {
      const limit = `limit rate ${rateText(match)} burst ${match.burst} packets`;
      if (match.per === 'rule') return limit;
      const key = `${addressFamily(match.family)} ${match.per === 'source' ? 'saddr' : 'daddr'}`;
      return `add @${checkName('set', match.meter)} { ${key} ${limit} }`;
    }
    case 'ct-established':
      return 'ct state established,related';
    case 'ct-dnat':
      return `ct status dnat ct original ${addressFamily(match.family)} daddr ${list(match.addresses.map((a) => checkName('address', a)))}`;
    case 'orig-dport':
      /* Its protocol match was checked (origPortProtocol) and rendered as `meta l4proto` before it (renderRule). */
      return `ct original proto-dst ${list(match.ports.map(port))}`;
    case 'icmpv6-link':
      return `icmpv6 type ${list(LINK_TYPES)}`;
  }
}

function renderPorts(match: PortMatch, l4: 'tcp' | 'udp' | null): string {
  if (l4 === null) throw new InternalError('port match without protocol');
  return `${l4} ${match.kind} ${list(match.ports.map(port))}`;
}

/** TCP gets a reset; everything else ICMP(v6) administratively prohibited (icmpx: the right one per family). */
const REJECT_TCP = 'reject with tcp reset';
const REJECT_OTHER = 'reject with icmpx type admin-prohibited';

function renderVerdict(verdict: Verdict, chains: ReadonlyMap<string, IrChain>, l4: string | null): string {
  switch (verdict.kind) {
    case 'accept':
    case 'drop':
      return verdict.kind;
    case 'reject':
      return l4 === 'tcp' ? REJECT_TCP : REJECT_OTHER;
    case 'jump':
    case 'goto':
      return `${verdict.kind} ${checkName('chain', checkJumpTarget(chains, verdict.chain).name)}`;
    case 'log':
      /* Audit mode's NFLOG (with a group) is logged per flow by renderRule. */
      if (verdict.group !== undefined) throw new InternalError('an audit log verdict is rendered per flow');
      return `${LOG_LIMIT} log prefix "${safeComment(verdict.prefix, NFT_LOG_PREFIX_MAX - 1)} "`;
  }
}

/** The rule's protocol match, if any. */
function ruleProtocol(rule: IrRule): string | null {
  const proto = rule.matches.find((m): m is Extract<Match, { kind: 'proto' }> => m.kind === 'proto');
  return proto?.protocol ?? null;
}

/** The lines of a rule (none: a raw rule without nft text, which this backend skips). A reject of every protocol is two lines: TCP gets its reset. */
function renderRule(rule: IrRule, chains: ReadonlyMap<string, IrChain>): string[] {
  if (rule.raw !== undefined) return rule.raw.nft === undefined ? [] : [checkRawText(rule.raw.nft)];
  const l4 = portProtocol(rule);
  /* `ct original proto-dst` needs its protocol stated before it, even when a later `tcp sport` would imply it. */
  const original = rule.matches.some((m) => m.kind === 'orig-dport');
  if (original) origPortProtocol(rule);
  const parts: string[] = [];
  for (const match of rule.matches) {
    const text = original && match.kind === 'proto' ? `meta l4proto ${L4_PROTOCOL[match.protocol]}` : renderMatch(match, l4);
    if (text !== null) parts.push(text);
  }
  const comment = rule.comment === null ? '' : safeComment(rule.comment, NFT_COMMENT_MAX);
  const tail = comment === '' ? [] : [`comment "${comment}"`];
  const protocol = ruleProtocol(rule);
  const line = (prefix: string[], verdict: string): string => [...prefix, ...parts, 'counter', verdict, ...tail].join(' ');
  if (rule.verdict.kind === 'reject' && protocol === null) {
    return [line(['meta l4proto tcp'], REJECT_TCP), line([], REJECT_OTHER)];
  }
  if (rule.verdict.kind === 'log' && rule.verdict.group !== undefined) {
    const log = `log prefix "${safeComment(rule.verdict.prefix, NFT_LOG_PREFIX_MAX)}" group ${rule.verdict.group}`;
    return auditFlowKeys().map(({ family, ports, key }) =>
      line([`meta nfproto ${family === 4 ? 'ipv4' : 'ipv6'} meta l4proto ${ports ? '' : '!= '}{ tcp, udp }`], `add @${auditMeterName(family, ports)} { ${key} ${LOG_LIMIT} } ${log}`),
    );
  }
  return [line([], renderVerdict(rule.verdict, chains, protocol))];
}

const LOG_LIMIT = `limit rate ${LOG_RATE_PER_SECOND}/second burst ${LOG_BURST} packets`;

/** Audit mode's per-flow meter keys: with the destination port for TCP and UDP, without it for the others. */
function auditFlowKeys(): Array<{ family: Family; ports: boolean; key: string }> {
  return ([4, 6] as const).flatMap((family) => {
    const pair = `${addressFamily(family)} saddr . ${addressFamily(family)} daddr . meta l4proto`;
    return [
      { family, ports: true, key: `${pair} . th dport` },
      { family, ports: false, key: pair },
    ];
  });
}

/** Whether the ruleset logs in audit mode (NFLOG), and so needs the per-flow meters. */
function audits(rs: Ruleset): boolean {
  return rs.chains.some((chain) => chain.rules.some((rule) => rule.raw === undefined && rule.verdict.kind === 'log' && rule.verdict.group !== undefined));
}

function renderAuditMeter(family: Family, ports: boolean): string[] {
  const address = family === 4 ? 'ipv4_addr' : 'ipv6_addr';
  return [
    `\tset ${auditMeterName(family, ports)} {`,
    `\t\ttype ${address} . ${address} . inet_proto${ports ? ' . inet_service' : ''}`,
    `\t\tsize ${METER_SIZE}`,
    '\t\tflags dynamic,timeout',
    `\t\ttimeout ${AUDIT_FLOW_TIMEOUT_SECONDS}s`,
    '\t}',
  ];
}

/** The dynamic sets of the ruleset's per-address rate limits, by name. */
function meters(rs: Ruleset): Map<string, Family> {
  const found = new Map<string, Family>();
  for (const chain of rs.chains) {
    for (const rule of chain.rules) {
      for (const m of rule.matches) if (m.kind === 'limit' && m.per !== 'rule') found.set(m.meter, m.family);
    }
  }
  return found;
}

function renderMeter(name: string, family: Family): string[] {
  return [`\tset ${checkName('set', name)} {`, `\t\ttype ${family === 4 ? 'ipv4_addr' : 'ipv6_addr'}`, `\t\tsize ${METER_SIZE}`, '\t\tflags dynamic', '\t}'];
}

function renderChain(chain: IrChain, chains: ReadonlyMap<string, IrChain>): string[] {
  const lines = [`\tchain ${checkName('chain', chain.name)} {`];
  if (chain.hook !== null) lines.push(`\t\ttype filter hook ${chain.hook} priority 0; policy accept;`);
  for (const rule of chain.rules) lines.push(...renderRule(rule, chains).map((text) => `\t\t${text}`));
  lines.push('\t}');
  return lines;
}

/** The chains standing for the nat, mangle and raw tables' built-in chains that have raw rules with an nft form. */
function tableChains(rs: Ruleset): string[][] {
  return (Object.keys(NFT_TABLE_CHAINS) as NftRawTable[]).flatMap((table) =>
    Object.entries(NFT_TABLE_CHAINS[table]).flatMap(([builtin, { type, hook, priority }]) => {
      const rules = rs.rawIptables.filter((r) => r.table === table && r.chain === builtin && r.nft !== undefined);
      if (rules.length === 0) return [];
      return [
        [
          `\tchain ${nftTableChainName(table, builtin)} {`,
          `\t\ttype ${type} hook ${hook} priority ${priority}; policy accept;`,
          ...rules.map((r) => `\t\t${checkRawText(r.nft as string)}`),
          '\t}',
        ],
      ];
    }),
  );
}

/**
 * The nft script of a ruleset; an InputError when the host carries raw iptables rules nft has no form for.
 * `shared`: the set blocks of a fleet run, each rendered once for every host that has the set.
 */
export function renderNft(rs: Ruleset, shared?: SharedSets): string {
  if (rs.untranslatable !== undefined && rs.untranslatable.length > 0) throw new InputError(rs.untranslatable);
  const unknown = rs.rawIptables.find((r) => NFT_TABLE_CHAINS[r.table]?.[r.chain as never] === undefined);
  if (unknown !== undefined) throw new InternalError(`raw rule in chain "${unknown.chain}", which is not a built-in chain of table ${unknown.table}`);
  const chains = jumpTargets(rs);
  const meterSets = [...meters(rs)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, family]) => renderMeter(name, family));
  const auditMeters = audits(rs) ? auditFlowKeys().map(({ family, ports }) => renderAuditMeter(family, ports)) : [];
  const sets = rs.sets.map((set) => (shared === undefined ? renderSet(set) : shared.nftText(set, renderSet)));
  const blocks = [...meterSets, ...auditMeters, ...rs.chains.map((chain) => renderChain(chain, chains)), ...tableChains(rs)];
  const body = [...sets, ...blocks.map((lines) => lines.join('\n'))].join('\n\n');
  return `table ${NFT_FAMILY} ${NFT_TABLE} {\n${body}${body === '' ? '' : '\n'}}\n`;
}
