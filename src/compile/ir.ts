/**
 * The ruleset of one host: backend-neutral chains, rules and named sets.
 * Both renderers and `explain` read only this, so what is explained is what is loaded.
 */
import type { Diagnostic } from '../diagnostics.ts';
import type { Protocol, PortRange, RateLimit } from '../policy/types.ts';

export type Family = 4 | 6;

export type Match =
  /** The interface by name; a name ending in `*` matches every interface it prefixes (`br-*`). */
  | { kind: 'iif'; name: string }
  | { kind: 'oif'; name: string }
  /** Matches packets whose source (saddr) or destination (daddr) is in a named set. Implies the set's family. */
  | { kind: 'saddr' | 'daddr'; set: string; family: Family }
  /** Literal networks (failsafe peers); implies the family. */
  | { kind: 'saddr-net' | 'daddr-net'; family: Family; cidrs: string[] }
  /** Layer-4 protocol; `icmp` implies IPv4 and `icmpv6` IPv6. */
  | { kind: 'proto'; protocol: Exclude<Protocol, 'all'> }
  | { kind: 'dport' | 'sport'; ports: PortRange[] }
  /** ICMP(v6) message types by nft name; comes after the matching `proto` match. */
  | { kind: 'icmp-type'; protocol: 'icmp' | 'icmpv6'; types: string[] }
  | { kind: 'skuid'; uid: number }
  /**
   * The socket's cgroup v2 path below the v2 root (`system.slice/nginx.service`); level = its depth. `mount`: where
   * the v2 hierarchy is below /sys/fs/cgroup, where nft looks the path up ('' when unified, 'unified' on hybrid hosts).
   */
  | {
      kind: 'cgroup';
      path: string;
      level: number;
      mount: string;
      /**
       * The cgroup's inode where the ruleset was compiled, when known. Both kernels resolve the path once, at load: a
       * unit that restarts gets a new cgroup, this changes, and the ruleset is loaded again. Renderers ignore it.
       */
      id?: number;
    }
  /**
   * At most `rate` per `unit` packets of new connections; beyond it the rule does not match and the packet goes
   * on. Per source or destination: one bucket per address in the dynamic set (nft) or hash (iptables) `meter`.
   */
  | ({ kind: 'limit'; meter: string; family: Family } & RateLimit)
  | { kind: 'ct-established' }
  /**
   * A connection the host DNAT'd (a published port: Docker, kube-proxy) whose original destination, before the
   * DNAT, is one of `addresses` (the host's own). Implies the family.
   */
  | { kind: 'ct-dnat'; family: Family; addresses: string[] }
  /** The destination port before DNAT (`ct original proto-dst`): the published port, not the container's. */
  | { kind: 'orig-dport'; ports: PortRange[] }
  /** Link-local ICMPv6 control without which IPv6 stops working: neighbour discovery and multicast listener discovery. */
  | { kind: 'icmpv6-link' };

export type Verdict =
  | { kind: 'accept' }
  | { kind: 'drop' }
  /** TCP is answered with a reset, everything else with ICMP(v6) administratively prohibited. */
  | { kind: 'reject' }
  /** Non-terminal: logs and goes on; with `group`, to that NFLOG group (audit mode) instead of the kernel log. */
  | { kind: 'log'; prefix: string; group?: number }
  | { kind: 'jump'; chain: string }
  /** Like jump, but a packet the chain does not decide meets the base chain's policy instead of coming back. */
  | { kind: 'goto'; chain: string };

/** Why a rule is in the ruleset: what `explain` and comments report. */
export type RuleOrigin =
  | { kind: 'base'; what: 'loopback' | 'established' | 'icmpv6-link' | 'user-dispatch' | 'service-dispatch' | 'published-dispatch' | 'containers-dispatch' | 'between-containers' }
  | { kind: 'failsafe'; direction: 'in' | 'out'; index: number }
  | { kind: 'rule'; rule: string }
  | { kind: 'raw'; rule: string }
  | { kind: 'log' }
  | { kind: 'default'; policy: 'drop' | 'reject' | 'accept' };

export interface IrRule {
  matches: Match[];
  verdict: Verdict;
  origin: RuleOrigin;
  /** Free text (the rule name); each renderer escapes it. null when comments are off. */
  comment: string | null;
  /** Raw rules carry backend text instead of matches; a backend without text for it skips the rule. */
  raw?: { nft?: string; iptables?: string };
}

export type ChainName = string;

export interface IrChain {
  name: ChainName;
  /** Base chains are hooked; others are only jumped to. */
  hook: 'input' | 'output' | 'forward' | null;
  /** For user chains: the user and uid they filter. */
  user?: { name: string; uid: number };
  /**
   * The forward hook's chains (src/compile/forward.ts): an accept there only means "palisade does not object",
   * so the iptables backend returns to the chain that jumped to palisade's (Docker's, kube-proxy's rules go on).
   */
  forward?: 'base' | 'published' | 'containers';
  /** For service chains: the systemd unit whose sockets they filter. */
  service?: { unit: string; cgroup: string };
  rules: IrRule[];
}

export interface IrSet {
  /** Stable: derived from the set's definition (what it selects), not its members, so membership changes keep the name. */
  name: string;
  family: Family;
  /** Canonical, sorted, non-overlapping: single addresses without prefix, networks as a.b.c.d/n. */
  elements: string[];
  /** Interval sets may hold networks. */
  interval: boolean;
  /** The source list it was resolved from, for comments and `explain`. */
  definition: string;
}

/**
 * Raw rules of the nat, mangle and raw tables: iptables puts them in palisade's own chain in their table
 * (PALISADE-<chain>), nft in the chain of palisade's table that stands for the built-in chain (`nat_prerouting`).
 */
export interface IrRawIptables {
  /** The iptables rule text after `-A <CHAIN>`; absent: a rule written for nft only, which iptables skips. */
  rule?: string;
  /** The nft rule text: the raw rule's `nft:` form or iptables-translate's translation; absent: nft skips it. */
  nft?: string;
  table: 'nat' | 'mangle' | 'raw';
  /** The built-in chain, e.g. PREROUTING; rendered as PALISADE-<chain> jumped to from it. */
  chain: string;
  name: string;
}

export interface Ruleset {
  host: string;
  /** Chains in render order: input, output, forward (and its parts: published, containers), then service chains sorted by unit, then user chains sorted by user. */
  chains: IrChain[];
  /** Sorted by name. */
  sets: IrSet[];
  rawIptables: IrRawIptables[];
  /** Raw rules with no form for a backend, and other things skipped on this host. */
  warnings: string[];
  /**
   * Raw iptables rules of this host that have no `nft:` form and that iptables-translate cannot translate: errors
   * naming each rule, raised when the ruleset is rendered for nft (the iptables backend loads them as written).
   * Absent when there are none.
   */
  untranslatable?: Diagnostic[];
  policyRevision: string;
  inventoryRevision: string;
}
