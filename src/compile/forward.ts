/**
 * The forward hook (settings.containers, docs/containers.md). Docker and kube-proxy publish a port by a DNAT in
 * `nat PREROUTING` and accept it in FORWARD, so the host's input chain never sees that traffic. Palisade's
 * forward chain sends every connection DNAT'd from one of the host's own addresses (`ct status dnat`, `ct
 * original daddr`) to `published`: the input chain's failsafe, rules and end, with the destination port read
 * before the DNAT (`ct original proto-dst`). So a rule `dport: 5432, source: roles:api` governs the published
 * port 5432 as it would a local listener. Traffic from a container bridge (or a `from:` network) goes to
 * `containers`: container-to-container traffic first (untouched unless `between: rules`), then the `from:`
 * rules and their end. Replies (established, related) are untouched.
 *
 * Accept in these chains means "palisade does not object": another table's (Docker's, kube-proxy's, Calico's)
 * rules still decide, so a drop in either drops. Pure.
 */
import type { Host } from '../inventory/types.ts';
import type { ContainerOrigin, ContainerSettings } from '../policy/types.ts';
import { defaultContainerSettings } from '../policy/container-settings.ts';
import {
  AUDIT_PREFIX_CONTAINERS,
  AUDIT_PREFIX_INPUT,
  AUDIT_PREFIX_PUBLISHED,
  CONTAINERS_CHAIN,
  LOG_PREFIX_CONTAINERS,
  LOG_PREFIX_INPUT,
  LOG_PREFIX_PUBLISHED,
  PUBLISHED_CHAIN,
} from '../layout.ts';
import type { Family, IrChain, IrRule, Match } from './ir.ts';
import { normaliseNetworks } from './networks.ts';

export interface ForwardInputs {
  host: Host;
  containers: ContainerSettings | undefined;
  /** The input chain as compiled: its failsafe, rules, log and default govern published ports. */
  input: readonly IrRule[];
  /** The host's `from:` rules, compiled (see originMatches), in order. */
  egress: readonly IrRule[];
  /** The networks of `from:` rules: traffic from them is containers' too. */
  egressNetworks: ReadonlyArray<Extract<ContainerOrigin, { kind: 'cidr' }>>;
  /** Raw forward rules: `-I` ones first in the chain, `-A` ones after the base rules. */
  raw: { top: readonly IrRule[]; rest: readonly IrRule[] };
  /** Audit mode's NFLOG group on this host, null when enforced. */
  auditGroup: number | null;
  comment: (text: string) => string | null;
}

/** The matches a `from:` puts before an egress rule's own. */
export function originMatches(from: ContainerOrigin): Match[] {
  switch (from.kind) {
    case 'containers':
      return [];
    case 'interface':
      return [{ kind: 'iif', name: from.name }];
    case 'cidr':
      return [{ kind: 'saddr-net', family: from.family, cidrs: [from.cidr] }];
  }
}

/** The host's own addresses per family: where a published port's connections were sent before the DNAT. */
function hostAddresses(host: Host, family: Family): string[] {
  const all = Object.values(host.interfaces).flat();
  return [...new Set(all.filter((a) => a.includes(':') === (family === 6)))].sort();
}

/** An input chain rule as it applies to a published port; null for what concerns only local traffic. */
function publishedRule(rule: IrRule): IrRule | null {
  if (rule.raw !== undefined || rule.origin.kind === 'base' || rule.origin.kind === 'raw') return null;
  const matches = rule.matches.map((m): Match => (m.kind === 'dport' ? { kind: 'orig-dport', ports: m.ports } : m));
  if (rule.verdict.kind !== 'log' || rule.origin.kind !== 'log') return { ...rule, matches };
  const prefix = rule.verdict.prefix === LOG_PREFIX_INPUT ? LOG_PREFIX_PUBLISHED : rule.verdict.prefix === AUDIT_PREFIX_INPUT ? AUDIT_PREFIX_PUBLISHED : rule.verdict.prefix;
  return { ...rule, matches, verdict: { ...rule.verdict, prefix } };
}

/** What ends the containers' chain: like output_drop's end, from egress_drop and egress_drop_log. */
function egressEnd(settings: ContainerSettings, auditGroup: number | null): IrRule[] {
  const rule = (verdict: IrRule['verdict'], origin: IrRule['origin']): IrRule => ({ matches: [], verdict, origin, comment: null });
  if (auditGroup !== null && settings.egressDrop) {
    return [rule({ kind: 'log', prefix: AUDIT_PREFIX_CONTAINERS, group: auditGroup }, { kind: 'log' }), rule({ kind: 'accept' }, { kind: 'default', policy: 'accept' })];
  }
  return [
    ...(settings.egressDropLog ? [rule({ kind: 'log', prefix: LOG_PREFIX_CONTAINERS }, { kind: 'log' })] : []),
    ...(settings.egressDrop ? [rule({ kind: 'drop' }, { kind: 'default', policy: 'drop' })] : []),
  ];
}

/**
 * The forward base chain and its parts; none when containers are off and no raw rule is in the forward chain.
 * With containers off, the forward chain holds only the raw forward rules, as before.
 */
export function forwardChains(inputs: ForwardInputs): IrChain[] {
  const settings = inputs.containers ?? defaultContainerSettings();
  const { comment, raw } = inputs;
  if (settings.mode === 'off') {
    const rules = [...raw.top, ...raw.rest];
    return rules.length === 0 ? [] : [{ name: 'forward', hook: 'forward', forward: 'base', rules }];
  }
  const base = (what: Extract<IrRule['origin'], { kind: 'base' }>['what'], matches: Match[], verdict: IrRule['verdict'], text: string): IrRule => ({
    matches,
    verdict,
    origin: { kind: 'base', what },
    comment: comment(text),
  });
  const toContainers: IrRule = { matches: [], verdict: { kind: 'goto', chain: CONTAINERS_CHAIN }, origin: { kind: 'base', what: 'containers-dispatch' }, comment: null };
  const published: IrRule = { matches: [], verdict: { kind: 'goto', chain: PUBLISHED_CHAIN }, origin: { kind: 'base', what: 'published-dispatch' }, comment: null };
  const forward: IrRule[] = [
    ...raw.top,
    base('established', [{ kind: 'ct-established' }], { kind: 'accept' }, 'established, related'),
    ...raw.rest,
    ...settings.bridges.map((bridge) => ({ ...toContainers, matches: [{ kind: 'iif' as const, name: bridge }], comment: comment(`from containers on ${bridge}`) })),
  ];
  for (const family of [4, 6] as const) {
    const addresses = hostAddresses(inputs.host, family);
    if (addresses.length > 0) forward.push({ ...published, matches: [{ kind: 'ct-dnat', family, addresses }], comment: comment('published ports: DNAT from the host addresses') });
  }
  for (const family of [4, 6] as const) {
    const cidrs = normaliseNetworks(inputs.egressNetworks.filter((n) => n.family === family).map((n) => n.cidr), family);
    if (cidrs.length > 0) forward.push({ ...toContainers, matches: [{ kind: 'saddr-net', family, cidrs }], comment: comment('from container networks of from: rules') });
  }
  const between =
    settings.between === 'open'
      ? settings.bridges.map((bridge) => base('between-containers', [{ kind: 'oif', name: bridge }], { kind: 'accept' }, `to containers on ${bridge}`))
      : [];
  const egressActive = inputs.egress.length > 0 || settings.egressDrop;
  const containers = [...between, ...(egressActive ? [...inputs.egress, ...egressEnd(settings, inputs.auditGroup)] : [])];
  return [
    { name: 'forward', hook: 'forward', forward: 'base', rules: forward },
    { name: PUBLISHED_CHAIN, hook: null, forward: 'published', rules: inputs.input.map(publishedRule).filter((r): r is IrRule => r !== null) },
    { name: CONTAINERS_CHAIN, hook: null, forward: 'containers', rules: containers },
  ];
}
