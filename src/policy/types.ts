/** The policy model of DESIGN.md ("Policy file"), after validation. */
import type { SourcePos } from '../diagnostics.ts';
import type { QueryNode } from '../query/ast.ts';

export type Direction = 'in' | 'out';
export type Protocol = 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'vrrp' | 'ospf' | 'all';
export const PROTOCOLS: readonly Protocol[] = ['tcp', 'udp', 'icmp', 'icmpv6', 'vrrp', 'ospf', 'all'];
/** Protocols that have ports. */
export const PORT_PROTOCOLS: readonly Protocol[] = ['tcp', 'udp'];

/** Inclusive port range; a single port has from === to. */
export interface PortRange {
  from: number;
  to: number;
}

/** One entry of a rule's source (inbound) or destination (outbound) list. */
export type Endpoint =
  /** An inventory query, e.g. `roles:web AND SAMETAG`. */
  | { kind: 'query'; text: string; query: QueryNode }
  /** An IP address or network; `cidr` is canonical with prefix (`10.4.76.2/32`, `2001:db8::/32`). */
  | { kind: 'cidr'; text: string; family: 4 | 6; cidr: string }
  /** A host name: an inventory host's name, else resolved through DNS. */
  | { kind: 'hostname'; text: string; name: string };

export type InterfaceSpec = { kind: 'default' } | { kind: 'all' } | { kind: 'named'; name: string };

export interface RuleOptions {
  /** Queries match hosts of every environment, not only the compiled host's. */
  disableEnvLimit: boolean;
  /** AFW's option; kept for import compatibility, relaxes only the unknown-query-field warnings. */
  disableSyntaxCheck: boolean;
}

export interface Rule {
  name: string;
  /** Hosts that carry the rule; null = every host. */
  on: QueryNode | null;
  onText: string | null;
  direction: Direction;
  protocol: Protocol;
  /** Outbound: owner of the socket. Inbound: recorded for audit only. */
  user: string | null;
  interface: InterfaceSpec;
  /** `source` for inbound rules, `destination` for outbound rules. Never empty. */
  peers: Endpoint[];
  /** null = any port. Only for tcp/udp. */
  dport: PortRange[] | null;
  sport: PortRange[] | null;
  /** Only hosts of this environment carry the rule. */
  env: string | null;
  options: RuleOptions;
  origin: SourcePos;
}

/** AFW "predefined rules": passed through for one backend. */
export interface RawRule {
  name: string;
  on: QueryNode | null;
  onText: string | null;
  /** Only hosts of this environment carry the rule. */
  env: string | null;
  /** `add rule inet palisade <chain> <rule>` split into its chain and the rule text. */
  nft: { chain: 'input' | 'output' | 'forward'; rule: string } | null;
  /** `-A <CHAIN> <rule>` in `table`; built-in chain names are mapped to palisade's own chains when rendering. */
  iptables: { table: 'filter' | 'nat' | 'mangle' | 'raw'; chain: string; rule: string } | null;
  origin: SourcePos;
}

export interface FailsafeEntry {
  protocol: Protocol;
  dport: PortRange[] | null;
  sport: PortRange[] | null;
  /** Addresses only (no queries: the failsafe must not depend on the inventory); null = any. */
  peers: Array<Extract<Endpoint, { kind: 'cidr' }>> | null;
  origin: SourcePos | null;
}

/**
 * Audit mode (`settings.mode` and `settings.audit`): on an audited host, what would be dropped is logged
 * to an NFLOG group with an `AUDIT_PAL_*` prefix and accepted. Absent: every host is enforced.
 */
export interface AuditSettings {
  /** `mode: audit`: every host. */
  all: boolean;
  /** With `mode: enforce`: hosts of these environments are audited. */
  environments: string[];
  /** With `mode: enforce`: hosts this query selects (every environment) are audited. */
  hosts: { text: string; query: QueryNode } | null;
  /** NFLOG group the audit records go to (read by ulogd2, see src/audit/ulogd.ts). */
  logGroup: number;
}

export interface Settings {
  /** Absent unless `mode: audit` or an `audit:` section is given, so enforced policies are unchanged. */
  audit?: AuditSettings;
  inputDrop: boolean;
  outputDrop: boolean;
  inputDropLog: boolean;
  outputDropLog: boolean;
  ruleComments: boolean;
  failsafe: { in: FailsafeEntry[]; out: FailsafeEntry[] };
}

export interface Policy {
  settings: Settings;
  /** In declaration order: files in the order given, rules in file order. */
  rules: Rule[];
  raw: RawRule[];
  files: string[];
  /** Content hash of the policy files. */
  revision: string;
}
