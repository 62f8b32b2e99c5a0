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

/** `default` and `all` (AFW's words) are every interface; `lan` is the host's lan interface. */
export type InterfaceSpec = { kind: 'every' } | { kind: 'lan' } | { kind: 'named'; name: string };

/** What a matching rule does: `log` logs and goes on to the following rules. */
export type Action = 'accept' | 'drop' | 'reject' | 'log';
export const ACTIONS: readonly Action[] = ['accept', 'drop', 'reject', 'log'];
/** What falls off the end of a chain when input_drop / output_drop is on. */
export type DefaultAction = 'drop' | 'reject';
export const DEFAULT_ORDER = 1000;

export type RateUnit = 'second' | 'minute' | 'hour' | 'day';
/** At most `rate` new connections per `unit` (and `burst` at once), counted per source, per destination or for the whole rule. */
export interface RateLimit {
  rate: number;
  unit: RateUnit;
  burst: number;
  per: 'source' | 'destination' | 'rule';
}

/** A systemd unit whose processes' sockets an outbound rule matches, by their cgroup v2 path. */
export interface ServiceSpec {
  unit: string;
  /** The unit's cgroup below the cgroup v2 root, e.g. `system.slice/nginx.service`. */
  cgroup: string;
}

export interface RuleOptions {
  /** Queries match hosts of every environment, not only the compiled host's. */
  disableEnvLimit: boolean;
  /**
   * AFW's option: a recipe fills the rule in later. Relaxes the unknown-query-field warnings and allows a
   * rule without source/destination, which then matches nothing (with a warning).
   */
  disableSyntaxCheck: boolean;
}

export interface Rule {
  name: string;
  /** Hosts that carry the rule; null = every host. */
  on: QueryNode | null;
  onText: string | null;
  direction: Direction;
  protocol: Protocol;
  action: Action;
  /** Lower first; ties keep declaration order. */
  order: number;
  /** Outbound: owner of the socket. Inbound: recorded for audit only. */
  user: string | null;
  /** Outbound only: the systemd unit owning the socket. */
  service: ServiceSpec | null;
  interface: InterfaceSpec;
  /** `source` for inbound rules, `destination` for outbound rules. Empty only with `disable_syntax_check`. */
  peers: Endpoint[];
  /** null = any port. Only for tcp/udp. */
  dport: PortRange[] | null;
  sport: PortRange[] | null;
  /** icmp / icmpv6 only: the message types (nft names) the rule matches; null = every type. */
  icmpTypes: string[] | null;
  limit: RateLimit | null;
  /**
   * Outbound rules of containers (`from:`): the rule filters traffic the host forwards from its containers
   * (the forward chain's egress part), not the host's own sockets. Absent or null: a rule of the host.
   */
  from?: ContainerOrigin | null;
  /** The rule is left out from this instant on (ISO 8601 as written, and milliseconds since the epoch). */
  expires: { text: string; at: number } | null;
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
  /**
   * `add rule inet palisade <chain> <rule>` split into its chain and the rule text: `input`, `output`, `forward`,
   * or a chain standing for a built-in chain of the nat, mangle or raw table (`nat_prerouting`, see src/layout.ts).
   */
  nft: { chain: string; rule: string } | null;
  /**
   * `-A <CHAIN> <rule>` (or `-I`: `insert`, at the top of palisade's chain for CHAIN) in `table`; built-in chain
   * names are mapped to palisade's own chains when rendering.
   */
  iptables: { table: 'filter' | 'nat' | 'mangle' | 'raw'; chain: string; rule: string; insert: boolean } | null;
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

/** Where container traffic comes from: every container network, one bridge (or `br-*` pattern), or a network. */
export type ContainerOrigin =
  | { kind: 'containers' }
  | { kind: 'interface'; name: string }
  | { kind: 'cidr'; text: string; family: 4 | 6; cidr: string };

/**
 * `settings.containers` (docs/containers.md): whether ports that Docker or kube-proxy publish (DNAT to a
 * container) obey the host's inbound rules, and what containers may open outward.
 */
export interface ContainerSettings {
  /** enforce (default): the forward chain applies the inbound rules to published ports; off: no forward chain. */
  mode: 'enforce' | 'off';
  /** Container-originated connections no `from:` rule accepts: dropped (true) or let through (false, default). */
  egressDrop: boolean;
  /** Log what falls off the end of the containers' egress rules. */
  egressDropLog: boolean;
  /** The interfaces of container networks; a name ending in `*` is a prefix. */
  bridges: string[];
  /** open (default): container-to-container traffic on the host is untouched; rules: it passes the egress rules. */
  between: 'open' | 'rules';
}

export interface Settings {
  /** Published ports and container egress; absent in settings built by hand means the defaults. */
  containers?: ContainerSettings;
  /** Absent unless `mode: audit` or an `audit:` section is given, so enforced policies are unchanged. */
  audit?: AuditSettings;
  inputDrop: boolean;
  outputDrop: boolean;
  inputDropLog: boolean;
  outputDropLog: boolean;
  ruleComments: boolean;
  defaultAction: DefaultAction;
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
