/**
 * policy × inventory × host → ruleset IR. Pure and deterministic: the same inputs give the same ruleset,
 * byte for byte once rendered. Query results and sets are cached across hosts, so compiling a whole fleet
 * costs little more than compiling the distinct (environment, tags) combinations it has.
 */
import { createHash } from 'node:crypto';
import { hostPositions } from '../inventory/by-name.ts';
import { hostFactsJson } from '../inventory/revision.ts';
import type { Host, Inventory } from '../inventory/types.ts';
import type { Endpoint, FailsafeEntry, Policy, RawRule, Rule, Settings } from '../policy/types.ts';
import type { QueryNode } from '../query/ast.ts';
import type { Bitset } from '../query/bitset.ts';
import { HostIndex } from '../query/host-index.ts';
import type { NameResolution } from '../resolve/resolver.ts';
import { controlPlaneFailsafe, type ControlPlane } from './control-plane.ts';
import type { Family, IrChain, IrRule, IrSet, Match, Ruleset, Verdict } from './ir.ts';
import { AddressOrder, normaliseNetworks } from './networks.ts';
import { endpointsUseSametag, setDefinition, setName, type SetScope } from './set-definitions.ts';
import { rawRulesFor, type RawTranslations } from './raw.ts';
import { forwardChains, originMatches } from './forward.ts';
import { InternalError } from '../diagnostics.ts';
import {
  AUDIT_PREFIX_INPUT,
  AUDIT_PREFIX_OUTPUT,
  LOG_PREFIX_INPUT,
  LOG_PREFIX_OUTPUT,
  auditPrefixForService,
  auditPrefixForUser,
  logPrefixForRule,
  logPrefixForService,
  logPrefixForUser,
  meterName,
  serviceChainName,
  userChainName,
} from '../layout.ts';

export interface CompileInputs {
  policy: Policy;
  inventory: Inventory;
  /** Every host-name endpoint that is not an inventory host, resolved (see namesToResolve). */
  names: ReadonlyMap<string, NameResolution>;
  /** Milliseconds since the epoch: rules that expired by then are left out. Default: when the compiler is made. */
  now?: number;
  /**
   * Whether a service's cgroup (`system.slice/nginx.service`) exists where the ruleset will load: nft resolves
   * the path when it loads, so a rule of a unit that is not running is left out (inactive, with a warning).
   * Absent: every service counts as running.
   */
  serviceRunning?: (cgroup: string) => boolean;
  /** The identity (inode) of a running service's cgroup: a restarted unit has a new one (see the IR's cgroup match). */
  serviceCgroupId?: (cgroup: string) => number | null;
  /** Where the cgroup v2 hierarchy is mounted below /sys/fs/cgroup: '' (unified, the default) or 'unified' (hybrid). */
  cgroupMount?: string;
  /** In fleet mode: the etcd members, kept reachable by an automatic failsafe (src/compile/control-plane.ts). */
  controlPlane?: ControlPlane;
  /**
   * nft forms of the raw iptables rules that have none, from iptables-translate. Absent: such rules are left out
   * of the nft form with a warning.
   */
  rawTranslations?: RawTranslations;
}

/** The warning of a rule left out because it expired: `plan` shows these on every host. */
export const expiredNote = (rule: string, at: string): string => `rule "${rule}" expired at ${at}: left out`;
export const isExpiredNote = (warning: string): boolean => /^rule ".*" expired at \S+: left out$/s.test(warning);

/** The rules in evaluation order: by `order`, ties in declaration order (Array.prototype.sort is stable). */
export function orderedRules(rules: readonly Rule[]): Rule[] {
  return [...rules].sort((a, b) => a.order - b.order);
}

function ruleVerdict(rule: Rule): Verdict {
  switch (rule.action) {
    case 'accept':
    case 'drop':
    case 'reject':
      return { kind: rule.action };
    case 'log':
      return { kind: 'log', prefix: logPrefixForRule(rule.name) };
  }
}

/**
 * What a named set selects: its rule's peers in the scope it was resolved for. The elements are the addresses
 * of the hosts its queries (and inventory host names) select, plus `fixed`: its networks and resolved names.
 */
export interface SetSource {
  peers: readonly Endpoint[];
  scope: SetScope;
  family: Family;
  interval: boolean;
  /** Normalised elements that come from no inventory host. */
  fixed: readonly string[];
}

interface ResolvedSet {
  set: IrSet;
  source: SetSource;
}

const setDigests = new WeakMap<IrSet, string>();

/**
 * The inventory revision of one host's ruleset: a digest of the host's own facts and of its sets' elements,
 * i.e. of exactly the inventory it depends on. A host joining that no rule of this host selects leaves it as it
 * is (an agent need not write its status again), and an incremental update reaches the same value as a compile.
 */
export function rulesetInventoryRevision(host: Host, sets: readonly IrSet[]): string {
  /* One update of the whole text: the same digest as one update per part, at a fraction of the calls. */
  let text = hostFactsJson(host);
  for (const set of sets) {
    let digest = setDigests.get(set);
    if (digest === undefined) {
      digest = createHash('sha256').update(set.elements.join(',')).digest('hex');
      setDigests.set(set, digest);
    }
    text += `\n${set.name}:${digest}`;
  }
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** Host names the policy uses that are not inventory hosts: they need DNS before compiling. */
export function namesToResolve(policy: Policy, inventory: Inventory): string[] {
  const names = new Set<string>();
  for (const rule of policy.rules) {
    for (const peer of rule.peers) {
      if (peer.kind === 'hostname' && !hostPositions(inventory.hosts).has(peer.name)) names.add(peer.name.toLowerCase());
    }
  }
  return [...names].sort();
}

function protocolFamilies(protocol: Rule['protocol']): Family[] {
  return protocol === 'icmp' ? [4] : protocol === 'icmpv6' ? [6] : [4, 6];
}

function ruleFamilies(rule: Rule): Family[] {
  const byProtocol = protocolFamilies(rule.protocol);
  const dynamic = rule.peers.some((p) => p.kind !== 'cidr');
  return byProtocol.filter((family) => dynamic || rule.peers.some((p) => p.kind === 'cidr' && p.family === family));
}

function protocolMatches(protocol: Rule['protocol'], dport: Rule['dport'], sport: Rule['sport'], icmpTypes: Rule['icmpTypes'] = null): Match[] {
  const matches: Match[] = [];
  if (protocol !== 'all') matches.push({ kind: 'proto', protocol });
  if (dport !== null) matches.push({ kind: 'dport', ports: dport });
  if (sport !== null) matches.push({ kind: 'sport', ports: sport });
  if (icmpTypes !== null && (protocol === 'icmp' || protocol === 'icmpv6')) matches.push({ kind: 'icmp-type', protocol, types: icmpTypes });
  return matches;
}

export class FleetCompiler {
  readonly index: HostIndex;
  /** Host name → position in the inventory. */
  private readonly positions: ReadonlyMap<string, number>;
  /** Per family, built when a set first needs it; null: a host address has a prefix (sets are then normalised one by one). */
  private readonly addressOrders = new Map<Family, AddressOrder | null>();
  /** Per family, how many elements the sets built so far hold (see addressOrder). */
  private readonly normalised = new Map<Family, number>();
  private readonly addressCount: { v4?: number; v6?: number } = {};
  private readonly carriers = new Map<QueryNode, Bitset>();
  private readonly setsByScope = new Map<Rule, { environment: boolean; sametag: boolean; byScope: Map<string, ResolvedSet> }>();
  private readonly tagsByHost = new WeakMap<Host, string[]>();
  private readonly setsByName = new Map<string, ResolvedSet>();
  /** Rules that may warn on some host that carries them, and what each warns about on every such host (computed once). */
  private noisy: Array<{ rule: Rule; unresolved: string[] }> | null = null;
  /** Per raw rule, what it warns about on every host that carries it (a backend form missing). */
  private readonly rawNotes = new Map<RawRule, string[]>();
  /** Compiled rulesets: explain and the lab's probe ask for the same hosts again and again. Treat as read-only. */
  private readonly rulesets = new Map<Host, Ruleset>();
  private readonly rules: Rule[];
  readonly now: number;

  constructor(private readonly inputs: CompileInputs) {
    this.index = new HostIndex(inputs.inventory.hosts);
    this.positions = hostPositions(inputs.inventory.hosts);
    this.rules = orderedRules(inputs.policy.rules);
    this.now = inputs.now ?? Date.now();
  }

  /** The host's position in the inventory (-1: not one of its hosts). */
  private position(host: Host): number {
    const position = this.positions.get(host.name);
    return position !== undefined && this.inputs.inventory.hosts[position] === host ? position : -1;
  }

  host(name: string): Host | undefined {
    const position = this.positions.get(name);
    return position === undefined ? undefined : this.inputs.inventory.hosts[position];
  }

  /** What a set this compiler built selects (src/compile/incremental.ts updates its elements from it). */
  setSource(name: string): SetSource | undefined {
    return this.setsByName.get(name)?.source;
  }

  compileAll(): Ruleset[] {
    return this.inputs.inventory.hosts.map((host) => this.compiled(host));
  }

  /**
   * Compiles every host in inventory order and hands each ruleset to `visit` without keeping it: what a fleet-wide
   * validation needs (`push`: 100,000 rulesets do not fit in memory together). The sets stay shared by the hosts.
   */
  forEachRuleset(visit: (rs: Ruleset, host: Host, position: number) => void): void {
    this.inputs.inventory.hosts.forEach((host, position) => visit(this.rulesets.get(host) ?? this.compileHost(host), host, position));
  }

  compile(hostName: string): Ruleset {
    const host = this.host(hostName);
    if (host === undefined) throw new InternalError(`host "${hostName}" is not in the inventory`);
    return this.compiled(host);
  }

  private compiled(host: Host): Ruleset {
    let rs = this.rulesets.get(host);
    if (rs === undefined) {
      rs = this.compileHost(host);
      this.rulesets.set(host, rs);
    }
    return rs;
  }

  /** Whether `on:` selects the host (`on:` is never scoped to an environment) and `env:` allows it. */
  carries(rule: { on: QueryNode | null; env?: string | null }, host: Host, hostIndex: number): boolean {
    if (rule.env != null && rule.env !== host.environment) return false;
    if (rule.on === null) return true;
    let selected = this.carriers.get(rule.on);
    if (selected === undefined) {
      selected = this.index.evaluate(rule.on, { environment: null, self: null });
      this.carriers.set(rule.on, selected);
    }
    return selected.has(hostIndex);
  }

  private compileHost(host: Host): Ruleset {
    const { policy } = this.inputs;
    const { settings } = policy;
    const hostIndex = this.position(host);
    const comments = settings.ruleComments;
    const warnings = this.warningsOf(host, hostIndex);
    const sets = new Map<string, IrSet>();
    const comment = (text: string): string | null => (comments ? text : null);
    const auditGroup = this.audits(host, hostIndex) ? (settings.audit?.logGroup ?? null) : null;
    const plane = this.inputs.controlPlane === undefined ? { in: [], out: [] } : controlPlaneFailsafe(this.inputs.controlPlane, host);

    const input: IrRule[] = [
      { matches: [{ kind: 'iif', name: 'lo' }], verdict: { kind: 'accept' }, origin: { kind: 'base', what: 'loopback' }, comment: comment('loopback') },
      ...this.essentials(comment),
      ...failsafeRules([...settings.failsafe.in, ...plane.in], 'in', comment),
    ];
    const output: IrRule[] = [
      { matches: [{ kind: 'oif', name: 'lo' }], verdict: { kind: 'accept' }, origin: { kind: 'base', what: 'loopback' }, comment: comment('loopback') },
      ...this.essentials(comment),
      ...failsafeRules([...settings.failsafe.out, ...plane.out], 'out', comment),
    ];
    const raw = rawRulesFor(policy.raw.filter((r) => this.carries(r, host, hostIndex)), comment, this.inputs.rawTranslations);
    input.unshift(...raw.top.input);
    output.unshift(...raw.top.output);
    input.push(...raw.input);
    output.push(...raw.output);
    const egress: IrRule[] = [];
    const egressNetworks: Array<Extract<NonNullable<Rule['from']>, { kind: 'cidr' }>> = [];

    const userRules = new Map<string, IrRule[]>();
    const serviceRules = new Map<string, { service: NonNullable<Rule['service']>; rules: IrRule[] }>();
    for (const rule of this.rules) {
      if (!this.carries(rule, host, hostIndex) || this.skipReason(rule, host) !== null) continue;
      const irRules = this.ruleToIr(rule, host, sets, comment);
      if (rule.from != null) {
        const from = rule.from;
        const origin = originMatches(from);
        /* A container network is of one family: its rule compiles for that family only. */
        const ofFamily = irRules.filter((r) => from.kind !== 'cidr' || r.matches.every((m) => !('family' in m) || m.family === from.family));
        egress.push(...ofFamily.map((r) => ({ ...r, matches: [...origin, ...r.matches] })));
        if (rule.from.kind === 'cidr') egressNetworks.push(rule.from);
      } else if (rule.direction === 'in') input.push(...irRules);
      else if (rule.service !== null) {
        const entry = serviceRules.get(rule.service.unit) ?? { service: rule.service, rules: [] };
        entry.rules.push(...irRules);
        serviceRules.set(rule.service.unit, entry);
      } else if (rule.user === null) output.push(...irRules);
      else userRules.set(rule.user, [...(userRules.get(rule.user) ?? []), ...irRules]);
    }

    /* A socket's own chain decides its packets: service chains are jumped to first, then user chains. */
    const chainEnd = (logPrefix: string, auditPrefix: string): IrRule[] => {
      if (auditGroup !== null && settings.outputDrop) return auditRules(auditPrefix, auditGroup);
      return [...(settings.outputDropLog ? [logRule(logPrefix)] : []), defaultRule(settings.outputDrop, settings)];
    };
    const units = [...serviceRules.keys()].sort();
    const serviceChains: IrChain[] = units.map((unit) => {
      const { service, rules } = serviceRules.get(unit) as { service: NonNullable<Rule['service']>; rules: IrRule[] };
      const name = serviceChainName(unit);
      output.push({
        matches: [{ kind: 'cgroup', path: service.cgroup, level: service.cgroup.split('/').length, mount: this.inputs.cgroupMount ?? '', ...cgroupId(this.inputs, service.cgroup) }],
        verdict: { kind: 'jump', chain: name },
        origin: { kind: 'base', what: 'service-dispatch' },
        comment: comment(`outbound of service ${unit}`),
      });
      return { name, hook: null, service, rules: [...rules, ...chainEnd(logPrefixForService(unit), auditPrefixForService(unit))] };
    });
    const users = [...userRules.keys()].sort();
    const userChains: IrChain[] = users.map((user) => {
      const uid = host.users[user] as number;
      output.push({
        matches: [{ kind: 'skuid', uid }],
        verdict: { kind: 'jump', chain: userChainName(user) },
        origin: { kind: 'base', what: 'user-dispatch' },
        comment: comment(`outbound of user ${user}`),
      });
      const rules = [...(userRules.get(user) ?? []), ...chainEnd(logPrefixForUser(user), auditPrefixForUser(user))];
      return { name: userChainName(user), hook: null, user: { name: user, uid }, rules };
    });

    if (auditGroup !== null && settings.inputDrop) input.push(...auditRules(AUDIT_PREFIX_INPUT, auditGroup));
    else {
      if (settings.inputDropLog) input.push(logRule(LOG_PREFIX_INPUT));
      if (settings.inputDrop) input.push(defaultRule(true, settings));
    }
    if (auditGroup !== null && settings.outputDrop) output.push(...auditRules(AUDIT_PREFIX_OUTPUT, auditGroup));
    else {
      if (settings.outputDropLog) output.push(logRule(LOG_PREFIX_OUTPUT));
      if (settings.outputDrop) output.push(defaultRule(true, settings));
    }

    const chains: IrChain[] = [
      { name: 'input', hook: 'input', rules: input },
      { name: 'output', hook: 'output', rules: output },
      ...forwardChains({ host, containers: settings.containers, input, egress, egressNetworks, raw: { top: raw.top.forward, rest: raw.forward }, auditGroup, comment }),
      ...serviceChains,
      ...userChains,
    ];
    const sorted = [...sets.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return {
      host: host.name,
      chains,
      sets: sorted,
      rawIptables: raw.rawIptables,
      warnings,
      ...(raw.untranslatable.length > 0 ? { untranslatable: raw.untranslatable } : {}),
      policyRevision: policy.revision,
      inventoryRevision: rulesetInventoryRevision(host, sorted),
    };
  }

  /**
   * What compiling the host warns about (its ruleset's `warnings`), in that order, without compiling it, so that
   * `check` can ask it of every host of a large fleet: raw rules without a backend's form, rules the host leaves out
   * (skipReason), interfaces it lacks, host names that resolve to nothing. Only rules that can warn are looked at.
   */
  warningsOf(host: Host, hostIndex = this.position(host)): string[] {
    const warnings: string[] = [];
    for (const rule of this.inputs.policy.raw) if (this.carries(rule, host, hostIndex)) warnings.push(...this.rawWarnings(rule));
    for (const { rule, unresolved } of this.noisyRules()) {
      if (!this.carries(rule, host, hostIndex)) continue;
      const skipped = this.skipReason(rule, host);
      if (skipped !== null) {
        warnings.push(skipped);
        continue;
      }
      const iface = this.interfaceWarning(rule, host);
      if (iface !== null) warnings.push(iface);
      for (const w of unresolved) if (!warnings.includes(w)) warnings.push(w);
    }
    return warnings;
  }

  private rawWarnings(rule: RawRule): string[] {
    let notes = this.rawNotes.get(rule);
    if (notes === undefined) {
      notes = rawRulesFor([rule], () => null, this.inputs.rawTranslations).warnings;
      this.rawNotes.set(rule, notes);
    }
    return notes;
  }

  /** The rules, in compile order, that warn on some host: those that may be skipped, name an interface, or name hosts that resolve to nothing. */
  private noisyRules(): Array<{ rule: Rule; unresolved: string[] }> {
    if (this.noisy === null) {
      this.noisy = this.rules.flatMap((rule) => {
        const unresolved = [...new Set(rule.peers.flatMap((peer) => (peer.kind === 'hostname' ? this.nameWarnings(peer.name) : [])))];
        const mayWarn = rule.expires !== null || rule.user !== null || rule.service !== null || rule.interface.kind !== 'every' || unresolved.length > 0;
        return mayWarn ? [{ rule, unresolved }] : [];
      });
    }
    return this.noisy;
  }

  /** Why the host leaves the rule out (expired, unknown user, unit not running), or null when it carries it. */
  skipReason(rule: Rule, host: Host): string | null {
    if (rule.expires !== null && rule.expires.at <= this.now) return expiredNote(rule.name, rule.expires.text);
    if (rule.user !== null && host.users[rule.user] === undefined) return `rule "${rule.name}" skipped: user "${rule.user}" does not exist on this host`;
    const running = this.inputs.serviceRunning;
    if (rule.service !== null && running !== undefined && !running(rule.service.cgroup)) {
      return `rule "${rule.name}" inactive: unit ${rule.service.unit} is not running (no cgroup ${rule.service.cgroup})`;
    }
    return null;
  }

  /** Whether the host runs in audit mode (`settings.mode`, `settings.audit`). */
  audits(host: Host, hostIndex: number): boolean {
    const audit = this.inputs.policy.settings.audit;
    if (audit === undefined) return false;
    if (audit.all || audit.environments.includes(host.environment)) return true;
    return audit.hosts !== null && this.carries({ on: audit.hosts.query }, host, hostIndex);
  }

  /** Loopback is per direction; these two are the same on both sides. */
  private essentials(comment: (text: string) => string | null): IrRule[] {
    return [
      { matches: [{ kind: 'ct-established' }], verdict: { kind: 'accept' }, origin: { kind: 'base', what: 'established' }, comment: comment('established, related') },
      { matches: [{ kind: 'icmpv6-link' }], verdict: { kind: 'accept' }, origin: { kind: 'base', what: 'icmpv6-link' }, comment: comment('ipv6 neighbour and multicast listener discovery') },
    ];
  }

  private ruleToIr(rule: Rule, host: Host, sets: Map<string, IrSet>, comment: (text: string) => string | null): IrRule[] {
    const text = rule.user !== null && rule.direction === 'in' ? `${rule.name} (user ${rule.user})` : rule.name;
    const iface = this.ruleInterface(rule, host);
    const verdict = ruleVerdict(rule);
    return ruleFamilies(rule).map((family) => {
      const resolved = this.resolveSet(rule, host, family);
      sets.set(resolved.set.name, resolved.set);
      const matches: Match[] = [];
      if (iface !== null) matches.push({ kind: rule.direction === 'in' ? 'iif' : 'oif', name: iface });
      matches.push({ kind: rule.direction === 'in' ? 'saddr' : 'daddr', set: resolved.set.name, family });
      matches.push(...protocolMatches(rule.protocol, rule.dport, rule.sport, rule.icmpTypes));
      if (rule.limit !== null) matches.push({ kind: 'limit', meter: meterName(rule.name, family), family, ...rule.limit });
      return { matches, verdict, origin: { kind: 'rule', rule: rule.name }, comment: comment(text) };
    });
  }

  /** The interface a rule matches on this host; null: every interface. */
  private ruleInterface(rule: Rule, host: Host): string | null {
    const spec = rule.interface;
    if (spec.kind === 'every') return null;
    return spec.kind === 'lan' ? (host.lan ?? null) : spec.name;
  }

  /** What ruleInterface's choice for this host deserves a warning about. */
  private interfaceWarning(rule: Rule, host: Host): string | null {
    const spec = rule.interface;
    if (spec.kind === 'lan' && host.lan === undefined) return `rule "${rule.name}": interface lan, but this host has no lan interface: it matches on every interface`;
    if (spec.kind === 'named' && host.interfaces[spec.name] === undefined) return `rule "${rule.name}": interface "${spec.name}" is not one of this host's interfaces`;
    return null;
  }

  /** What a rule's sets are scoped by: the compiled host's environment (a query, no disable_env_limit), its tags (SAMETAG). */
  private scopedBy(rule: Rule): { environment: boolean; sametag: boolean; byScope: Map<string, ResolvedSet> } {
    let found = this.setsByScope.get(rule);
    if (found === undefined) {
      found = { environment: rule.peers.some((p) => p.kind === 'query') && !rule.options.disableEnvLimit, sametag: endpointsUseSametag(rule.peers), byScope: new Map() };
      this.setsByScope.set(rule, found);
    }
    return found;
  }

  private sortedTags(host: Host): string[] {
    let tags = this.tagsByHost.get(host);
    if (tags === undefined) {
      tags = [...host.tags].sort();
      this.tagsByHost.set(host, tags);
    }
    return tags;
  }

  private resolveSet(rule: Rule, host: Host, family: Family): ResolvedSet {
    const { environment, sametag, byScope } = this.scopedBy(rule);
    const scope: SetScope = { environment: environment ? host.environment : null, sametag: sametag ? this.sortedTags(host) : null };
    const scopeKey = `${family}|${scope.environment}|${scope.sametag?.join(',') ?? ''}`;
    const cached = byScope.get(scopeKey);
    if (cached !== undefined) return cached;
    const definition = setDefinition(rule.peers, scope, family);
    const name = setName(definition, family);
    let resolved = this.setsByName.get(name);
    if (resolved === undefined) {
      resolved = this.buildSet(rule, host, family, scope, name, definition);
      this.setsByName.set(name, resolved);
    }
    byScope.set(scopeKey, resolved);
    return resolved;
  }

  private buildSet(rule: Rule, host: Host, family: Family, scope: SetScope, name: string, definition: string): ResolvedSet {
    const set = this.buildSetOf(rule, host, family, scope, name, definition);
    this.normalised.set(family, (this.normalised.get(family) ?? 0) + set.set.elements.length);
    return set;
  }

  private buildSetOf(rule: Rule, host: Host, family: Family, scope: SetScope, name: string, definition: string): ResolvedSet {
    const order = rule.peers.every((p) => p.kind === 'query') ? this.addressOrder(family) : null;
    if (order !== null) {
      /* Only hosts' addresses: no network to merge, nothing fixed. */
      const context = { environment: scope.environment, self: scope.sametag === null ? null : host };
      const positions = new Set<number>();
      for (const peer of rule.peers) if (peer.kind === 'query') for (const i of this.index.positions(peer.query, context)) positions.add(i);
      return {
        set: { name, family, elements: order.elements(positions), interval: false, definition },
        source: { peers: rule.peers, scope, family, interval: false, fixed: [] },
      };
    }
    const members: string[] = [];
    const fixed: string[] = [];
    for (const peer of rule.peers) {
      const addresses = this.peerAddresses(peer, host, family, scope);
      members.push(...addresses);
      if (peer.kind === 'cidr' || (peer.kind === 'hostname' && !this.positions.has(peer.name))) fixed.push(...addresses);
    }
    const interval = rule.peers.some((p) => p.kind === 'cidr' && p.family === family && !p.cidr.endsWith(family === 4 ? '/32' : '/128'));
    return {
      set: { name, family, elements: normaliseNetworks(members, family), interval, definition },
      source: { peers: rule.peers, scope, family, interval, fixed: normaliseNetworks(fixed, family) },
    };
  }

  /**
   * The order of the hosts' addresses, once the sets built so far have held as many elements as the fleet has
   * addresses: ordering them all costs about one parse per address, which a fleet run pays back many times, and
   * one host's compile (an agent, `compile --host`) never pays.
   */
  private addressOrder(family: Family): AddressOrder | null {
    let order = this.addressOrders.get(family);
    if (order === undefined) {
      const key = family === 4 ? 'v4' : 'v6';
      const { hosts } = this.inputs.inventory;
      if (this.addressCount[key] === undefined) this.addressCount[key] = hosts.reduce((n, h) => n + h.addresses[key].length, 0);
      if ((this.normalised.get(family) ?? 0) < this.addressCount[key]) return null;
      order = AddressOrder.of(hosts.map((h) => h.addresses[key]), family);
      this.addressOrders.set(family, order);
    }
    return order;
  }

  /** The addresses a host name stands for: an inventory host's, else what it resolved to (null when it did not: nameWarnings). */
  private nameAddresses(name: string): Host['addresses'] | null {
    const inventoryHost = this.host(name);
    if (inventoryHost !== undefined) return inventoryHost.addresses;
    const resolution = this.inputs.names.get(name.toLowerCase());
    return resolution === undefined || resolution.error !== undefined ? null : { v4: resolution.v4, v6: resolution.v6 };
  }

  private nameWarnings(name: string): string[] {
    if (this.nameAddresses(name) !== null) return [];
    const resolution = this.inputs.names.get(name.toLowerCase());
    return [`"${name}" did not resolve (${resolution?.error ?? 'not resolved'}): it matches nothing`];
  }

  private peerAddresses(peer: Endpoint, host: Host, family: Family, scope: SetScope): string[] {
    const key = family === 4 ? 'v4' : 'v6';
    switch (peer.kind) {
      case 'cidr':
        return peer.family === family ? [peer.cidr] : [];
      case 'query':
        return this.index
          .select(peer.query, { environment: scope.environment, self: scope.sametag === null ? null : host })
          .flatMap((h) => h.addresses[key]);
      case 'hostname':
        return this.nameAddresses(peer.name)?.[key] ?? [];
    }
  }
}

function cgroupId(inputs: CompileInputs, cgroup: string): { id?: number } {
  const id = inputs.serviceCgroupId?.(cgroup) ?? null;
  return id === null ? {} : { id };
}

function logRule(prefix: string): IrRule {
  return { matches: [], verdict: { kind: 'log', prefix }, origin: { kind: 'log' }, comment: null };
}

/** Audit mode's chain end: what the drop would have taken is logged to NFLOG and accepted. */
function auditRules(prefix: string, group: number): IrRule[] {
  return [{ matches: [], verdict: { kind: 'log', prefix, group }, origin: { kind: 'log' }, comment: null }, defaultRule(false)];
}

/** The end of a chain: accept, or drop / reject as `settings.default_action` says. */
function defaultRule(deny: boolean, settings?: Settings): IrRule {
  const policy = !deny ? 'accept' : (settings?.defaultAction ?? 'drop');
  return { matches: [], verdict: { kind: policy }, origin: { kind: 'default', policy }, comment: null };
}

function failsafeRules(entries: readonly FailsafeEntry[], direction: 'in' | 'out', comment: (text: string) => string | null): IrRule[] {
  return entries.flatMap((entry, index) => {
    const base = protocolMatches(entry.protocol, entry.dport, entry.sport);
    const origin = { kind: 'failsafe' as const, direction, index };
    const text = comment(`failsafe ${direction} ${index + 1}`);
    if (entry.peers === null) return [{ matches: base, verdict: { kind: 'accept' as const }, origin, comment: text }];
    return protocolFamilies(entry.protocol).flatMap((family) => {
      const cidrs = normaliseNetworks(entry.peers?.filter((p) => p.family === family).map((p) => p.cidr) ?? [], family);
      if (cidrs.length === 0) return [];
      const net: Match = { kind: direction === 'in' ? 'saddr-net' : 'daddr-net', family, cidrs };
      return [{ matches: [net, ...base], verdict: { kind: 'accept' as const }, origin, comment: text }];
    });
  });
}
