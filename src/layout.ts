/**
 * The kernel layout: every name palisade gives to what it puts in the kernel, in one place (as Calico Felix
 * keeps its own in rules/rule_defs.go). The compiler names chains, sets and log prefixes from here; the
 * renderers, the kernel backends, the lab and the audit parsers recognise palisade's objects by these names.
 * Changing one changes the contract with users (DESIGN.md "Kernel layout"). It imports only the hash, so every
 * layer, from policy validation up, can use it.
 */
import { sha256 } from './hash.ts';

/** nftables: `table inet palisade`. */
export const NFT_FAMILY = 'inet';
export const NFT_TABLE = 'palisade';
/** The IR's (and nft's) chain for a local user's or service's outbound rules. */
export const userChainName = (user: string): string => `user_${user}`;
/** The chain of a service's outbound rules: the unit name, with a hash when it has characters a chain name cannot. */
export function serviceChainName(unit: string): string {
  const safe = unit.replace(/[^A-Za-z0-9_.-]/g, '_');
  return safe === unit ? `service_${unit}` : `service_${safe}-${sha256(unit).slice(0, 6)}`;
}

/**
 * The forward hook's parts (settings.containers, docs/containers.md): ports the host publishes by DNAT, and the
 * outbound traffic of its containers. iptables: `PALISADE-PUBLISHED`, `PALISADE-CONTAINERS`.
 */
export const PUBLISHED_CHAIN = 'published';
export const CONTAINERS_CHAIN = 'containers';
/** Docker's chain for an administrator's forward rules: palisade's forward chain is jumped to from it when it exists. */
export const DOCKER_USER_CHAIN = 'DOCKER-USER';

/** iptables: palisade's chains are `PALISADE-<built-in chain>` and `PALISADE-U-<user>`. */
export const IPTABLES_CHAIN_PREFIX = 'PALISADE-';
export const iptablesOwnChain = (builtin: string): string => `${IPTABLES_CHAIN_PREFIX}${builtin}`;
export const iptablesUserChain = (user: string): string => `${IPTABLES_CHAIN_PREFIX}U-${user}`;
export const isIptablesOwnChain = (name: string): boolean => name.startsWith(IPTABLES_CHAIN_PREFIX);
/**
 * The built-in chains of each iptables table. Raw iptables rules name one of these, and go into palisade's own
 * chain jumped to from it: never into another tool's chain (Docker's, kube-proxy's).
 */
export const IPTABLES_BUILTIN_CHAINS = {
  filter: ['INPUT', 'OUTPUT', 'FORWARD'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
} as const satisfies Record<string, readonly string[]>;
export type IptablesTableName = keyof typeof IPTABLES_BUILTIN_CHAINS;

/**
 * nftables: the chains of palisade's own table that stand for the built-in chains of iptables' nat, mangle and raw
 * tables (raw rules of those tables go there, as written in `nft:` or translated by iptables-translate), with the
 * hook, chain type and priority iptables gives them.
 */
export interface NftTableChain {
  type: 'filter' | 'nat' | 'route';
  hook: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
  priority: number;
}
export const NFT_TABLE_CHAINS = {
  nat: {
    PREROUTING: { type: 'nat', hook: 'prerouting', priority: -100 },
    INPUT: { type: 'nat', hook: 'input', priority: 100 },
    OUTPUT: { type: 'nat', hook: 'output', priority: -100 },
    POSTROUTING: { type: 'nat', hook: 'postrouting', priority: 100 },
  },
  mangle: {
    PREROUTING: { type: 'filter', hook: 'prerouting', priority: -150 },
    INPUT: { type: 'filter', hook: 'input', priority: -150 },
    FORWARD: { type: 'filter', hook: 'forward', priority: -150 },
    OUTPUT: { type: 'route', hook: 'output', priority: -150 },
    POSTROUTING: { type: 'filter', hook: 'postrouting', priority: -150 },
  },
  raw: {
    PREROUTING: { type: 'filter', hook: 'prerouting', priority: -300 },
    OUTPUT: { type: 'filter', hook: 'output', priority: -300 },
  },
} as const satisfies { [T in Exclude<IptablesTableName, 'filter'>]: Record<(typeof IPTABLES_BUILTIN_CHAINS)[T][number], NftTableChain> };
export type NftRawTable = keyof typeof NFT_TABLE_CHAINS;
/** `nat_prerouting`, `raw_output`, ...: the nft chain of a built-in chain of the nat, mangle or raw table. */
export const nftTableChainName = (table: NftRawTable, builtin: string): string => `${table}_${builtin.toLowerCase()}`;
/** Every such chain by its nft name. */
export const NFT_TABLE_CHAIN_NAMES: ReadonlyMap<string, { table: NftRawTable; builtin: string }> = new Map(
  (Object.keys(NFT_TABLE_CHAINS) as NftRawTable[]).flatMap((table) =>
    Object.keys(NFT_TABLE_CHAINS[table]).map((builtin) => [nftTableChainName(table, builtin), { table, builtin }] as const),
  ),
);

/** Named sets: `pal4_<hash>`, `pal6_<hash>` (named by their definition), and ipset's staging sets `paltmp_<n>`. */
export const setPrefix = (family: 4 | 6): string => `pal${family}_`;
export const STAGING_SET_PREFIX = 'paltmp_';
export const stagingSetName = (index: number): string => `${STAGING_SET_PREFIX}${index}`;
/** Any set palisade creates, staging sets included. */
export const isPalisadeSet = (name: string): boolean => /^pal(?:4|6|tmp)_/.test(name);
export const isStagingSet = (name: string): boolean => name.startsWith(STAGING_SET_PREFIX);
/** A rate limit's dynamic set (nft) or hash (iptables hashlimit, at most 15 characters): one per rule and family. */
export const meterName = (rule: string, family: 4 | 6): string => `palm${family}_${sha256(rule).slice(0, 9)}`;
/**
 * Audit mode's per-flow log meters, one per family: keyed on source, destination, protocol and destination port
 * (TCP, UDP), or on source, destination and protocol (`x`: the others), so a busy flow cannot use up the log budget.
 */
export const auditMeterName = (family: 4 | 6, ports: boolean): string => `palm${family}_audit${ports ? '' : 'x'}`;
/** A meter's name: its elements are the packet path's, never the ruleset's. */
export const isMeterName = (name: string): boolean => /^palm[46]_/.test(name);

/** Log prefixes of the drop rules: the direction, and the user chain, as AFW's are. */
export const DROP_PREFIX = 'DROP_PAL_';
export const LOG_PREFIX_INPUT = `${DROP_PREFIX}INPUT`;
export const LOG_PREFIX_OUTPUT = `${DROP_PREFIX}OUTPUT`;
export const LOG_PREFIX_PUBLISHED = `${DROP_PREFIX}PUBLISHED`;
export const LOG_PREFIX_CONTAINERS = `${DROP_PREFIX}CONTAINERS`;
export const logPrefixForUser = (user: string): string => `${DROP_PREFIX}OUT_${user}`;
export const logPrefixForService = (unit: string): string => `${DROP_PREFIX}SVC_${unit}`;
/** Non-terminal `action: log` rules. */
export const LOG_PREFIX = 'LOG_PAL_';
export const logPrefixForRule = (rule: string): string => `${LOG_PREFIX}${rule}`;
/** Audit mode's prefixes: what would have been dropped, logged and accepted. */
export const AUDIT_PREFIX = 'AUDIT_PAL_';
export const AUDIT_PREFIX_INPUT = `${AUDIT_PREFIX}INPUT`;
export const AUDIT_PREFIX_OUTPUT = `${AUDIT_PREFIX}OUTPUT`;
export const AUDIT_PREFIX_PUBLISHED = `${AUDIT_PREFIX}PUBLISHED`;
export const AUDIT_PREFIX_CONTAINERS = `${AUDIT_PREFIX}CONTAINERS`;
export const auditPrefixForUser = (user: string): string => `${AUDIT_PREFIX}OUT_${user}`;
export const auditPrefixForService = (unit: string): string => `${AUDIT_PREFIX}SVC_${unit}`;
