/**
 * Ruleset IR → nft script defining `table inet palisade` (DESIGN.md "Kernel layout"). The applier adds the
 * table's delete/flush lines; this is only the definition. Pure and byte-deterministic.
 */
import type { Family, IrChain, IrRule, IrSet, Match, Ruleset, Verdict } from '../compile/ir.ts';
import type { PortRange } from '../policy/types.ts';
import { L4_PROTOCOL, LOG_BURST, LOG_RATE_PER_SECOND, checkJumpTarget, checkUid, jumpTargets, portProtocol, type PortMatch } from './common.ts';
import { checkName, checkRawText, safeComment } from './escape.ts';

export const NFT_TABLE = 'palisade';
/** nft refuses longer rule comments. */
export const NFT_COMMENT_MAX = 128;
/** The kernel's log prefix holds 127 characters; ours ends with a space. */
export const NFT_LOG_PREFIX_MAX = 127;
/** Set definitions are script comments (`#`), not loaded: only kept readable. */
const SET_DEFINITION_MAX = 256;

/** Link-local ICMPv6 control an IPv6 host cannot live without: neighbour discovery and multicast listener (MLD) messages. */
const LINK_TYPES = ['nd-neighbor-solicit', 'nd-neighbor-advert', 'nd-router-solicit', 'nd-router-advert', 'mld-listener-query', 'mld-listener-report', 'mld-listener-done', 'mld2-listener-report'];

function addressFamily(family: Family): string {
  return family === 4 ? 'ip' : 'ip6';
}

/** One element bare, several in an anonymous set. */
function list(items: readonly string[]): string {
  if (items.length === 0) throw new Error('empty list in an nft match');
  return items.length === 1 ? (items[0] as string) : `{ ${items.join(', ')} }`;
}

function port({ from, to }: PortRange): string {
  return from === to ? `${from}` : `${from}-${to}`;
}

function renderSet(set: IrSet): string[] {
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
  return lines;
}

function renderMatch(match: Match, l4: 'tcp' | 'udp' | null): string | null {
  switch (match.kind) {
    case 'iif':
      return `iifname "${checkName('interface', match.name)}"`;
    case 'oif':
      return `oifname "${checkName('interface', match.name)}"`;
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
    case 'skuid':
      return `meta skuid ${checkUid(match.uid)}`;
    case 'ct-established':
      return 'ct state established,related';
    case 'icmpv6-link':
      return `icmpv6 type ${list(LINK_TYPES)}`;
  }
}

function renderPorts(match: PortMatch, l4: 'tcp' | 'udp' | null): string {
  if (l4 === null) throw new Error('port match without protocol');
  return `${l4} ${match.kind} ${list(match.ports.map(port))}`;
}

function renderVerdict(verdict: Verdict, chains: ReadonlyMap<string, IrChain>): string {
  switch (verdict.kind) {
    case 'accept':
    case 'drop':
      return verdict.kind;
    case 'jump':
      return `jump ${checkName('chain', checkJumpTarget(chains, verdict.chain).name)}`;
    case 'log': {
      const limit = `limit rate ${LOG_RATE_PER_SECOND}/second burst ${LOG_BURST} packets`;
      if (verdict.group !== undefined) return `${limit} log prefix "${safeComment(verdict.prefix, NFT_LOG_PREFIX_MAX)}" group ${verdict.group}`;
      return `${limit} log prefix "${safeComment(verdict.prefix, NFT_LOG_PREFIX_MAX - 1)} "`;
    }
  }
}

/** null: a raw rule without nft text, which this backend skips. */
function renderRule(rule: IrRule, chains: ReadonlyMap<string, IrChain>): string | null {
  if (rule.raw !== undefined) return rule.raw.nft === undefined ? null : checkRawText(rule.raw.nft);
  const l4 = portProtocol(rule);
  const parts: string[] = [];
  for (const match of rule.matches) {
    const text = renderMatch(match, l4);
    if (text !== null) parts.push(text);
  }
  parts.push('counter', renderVerdict(rule.verdict, chains));
  const comment = rule.comment === null ? '' : safeComment(rule.comment, NFT_COMMENT_MAX);
  if (comment !== '') parts.push(`comment "${comment}"`);
  return parts.join(' ');
}

function renderChain(chain: IrChain, chains: ReadonlyMap<string, IrChain>): string[] {
  const lines = [`\tchain ${checkName('chain', chain.name)} {`];
  if (chain.hook !== null) lines.push(`\t\ttype filter hook ${chain.hook} priority 0; policy accept;`);
  for (const rule of chain.rules) {
    const text = renderRule(rule, chains);
    if (text !== null) lines.push(`\t\t${text}`);
  }
  lines.push('\t}');
  return lines;
}

export function renderNft(rs: Ruleset): string {
  const chains = jumpTargets(rs);
  const blocks = [...rs.sets.map(renderSet), ...rs.chains.map((chain) => renderChain(chain, chains))];
  const body = blocks.map((lines) => lines.join('\n')).join('\n\n');
  return `table inet ${NFT_TABLE} {\n${body}${body === '' ? '' : '\n'}}\n`;
}
