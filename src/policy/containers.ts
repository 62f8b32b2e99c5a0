/**
 * `settings.containers` and a rule's `from:` (docs/containers.md): ports Docker or kube-proxy publish obey the
 * host's inbound rules, and `from:` rules say what containers may open outward.
 *
 *     containers: enforce           # enforce (default) | off, or a map:
 *     containers:
 *       mode: enforce
 *       egress_drop: false          # container connections no `from:` rule accepts: dropped (true) or let through
 *       egress_drop_log: true
 *       bridges: [docker0, "br-*"]  # container networks' interfaces; `*` at the end: a prefix
 *       between: open               # open: container to container untouched | rules: through the `from:` rules
 */
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import type { ContainerOrigin, ContainerSettings, Policy } from './types.ts';
import { parseCidr } from './address.ts';
import { booleanField, choiceField, stringField } from './fields.ts';
import { CONTAINER_MODES, defaultContainerSettings, interfacePatternProblem } from './container-settings.ts';
import type { Entry, SourceFile } from './yaml-source.ts';

const BETWEEN = ['open', 'rules'] as const;
/** Bridges are few; a long list is a mistake (and a rule per bridge in the kernel). */
const MAX_BRIDGES = 64;
/** Container networks are at least this narrow: a wider `from:` would take the host's routed traffic for containers'. */
const MIN_PREFIX = { 4: 8, 6: 16 } as const;

function parseBridges(file: SourceFile, entry: Entry): string[] | null {
  const value = entry.value;
  if (!isSeq(value)) {
    file.error(value ?? entry.keyNode, '"containers.bridges" must be a list of interface names such as [docker0, "br-*"]');
    return null;
  }
  if (value.items.length === 0) {
    file.error(value, '"containers.bridges" is empty: list the container bridges, or set containers: off');
    return null;
  }
  if (value.items.length > MAX_BRIDGES) {
    file.error(value, `"containers.bridges" lists ${value.items.length} interfaces; at most ${MAX_BRIDGES} (use a pattern such as "br-*")`);
    return null;
  }
  const names: string[] = [];
  let ok = true;
  for (const item of value.items) {
    const node = file.resolve(item);
    const text = isScalar(node) && typeof node.value === 'string' ? node.value : null;
    const problem = text === null ? 'must be a string' : interfacePatternProblem(text);
    if (problem !== null || text === null) {
      ok = false;
      file.error(node ?? value, `"containers.bridges": ${text === null ? 'an entry' : JSON.stringify(text)} ${text === null ? problem : `is not an interface name: ${problem}`}`);
    } else if (!names.includes(text)) names.push(text);
  }
  return ok ? names : null;
}

/** `settings.containers`: a mode word, or a map; defaults filled in; every problem reported. */
export function parseContainers(file: SourceFile, entry: Entry): ContainerSettings {
  const settings = defaultContainerSettings();
  const value: Node | null = entry.value;
  if (isScalar(value)) {
    const mode = choiceField(file, entry, CONTAINER_MODES);
    if (mode !== null) settings.mode = mode;
    return settings;
  }
  if (!isMap(value)) {
    file.error(value ?? entry.keyNode, '"containers" must be enforce, off, or a map such as { mode: enforce, egress_drop: true }');
    return settings;
  }
  const entries = file.entries(value, 'containers', { known: ['mode', 'egress_drop', 'egress_drop_log', 'bridges', 'between'], noun: 'key in containers' }) ?? [];
  for (const e of entries) {
    if (e.key === 'mode') {
      const mode = choiceField(file, e, CONTAINER_MODES);
      if (mode !== null) settings.mode = mode;
    } else if (e.key === 'between') {
      const between = choiceField(file, e, BETWEEN);
      if (between !== null) settings.between = between;
    } else if (e.key === 'bridges') {
      const bridges = parseBridges(file, e);
      if (bridges !== null) settings.bridges = bridges;
    } else {
      const on = booleanField(file, e);
      if (on !== null) settings[e.key === 'egress_drop' ? 'egressDrop' : 'egressDropLog'] = on;
    }
  }
  return settings;
}

/**
 * A rule's `from:`: `containers` (every container bridge), a bridge name or `prefix*` pattern, or a container
 * network. Only outbound rules take it, and no `user` or `service`: a container's socket is not the host's.
 */
export function parseFrom(file: SourceFile, entry: Entry, rule: string): ContainerOrigin | null {
  const text = stringField(file, entry, rule);
  if (text === null || entry.value === null) return null;
  if (text.toLowerCase() === 'containers') return { kind: 'containers' };
  const address = parseCidr(text);
  if (address !== null) {
    if (!address.ok) {
      file.error(entry.value, `"from": ${address.message}`, rule);
      return null;
    }
    const prefix = Number(address.cidr.slice(address.cidr.indexOf('/') + 1));
    if (prefix < MIN_PREFIX[address.family]) {
      file.error(
        entry.value,
        `"from": ${text} is wider than a container network (at most /${MIN_PREFIX[address.family]}): it would take the host's routed traffic for containers'; name the network (172.17.0.0/16) or the bridge`,
        rule,
      );
      return null;
    }
    return { kind: 'cidr', text, family: address.family, cidr: address.cidr };
  }
  const problem = interfacePatternProblem(text);
  if (problem !== null) {
    file.error(entry.value, `"from" must be containers, a bridge (docker0, "br-*") or a container network (172.17.0.0/16); ${JSON.stringify(text)}: ${problem}`, rule);
    return null;
  }
  return { kind: 'interface', name: text };
}

/** `from:` in words, for plans and explain. */
export function describeFrom(from: ContainerOrigin): string {
  switch (from.kind) {
    case 'containers':
      return 'containers';
    case 'interface':
      return `containers on ${from.name}`;
    case 'cidr':
      return `containers in ${from.cidr}`;
  }
}

/**
 * What settings.containers does, in one line for `check` and `plan`. What runs on a host (Docker, kube-proxy,
 * Calico, Cilium) is only known where apply runs: apply says what it found there.
 */
export function containersSummary(policy: Pick<Policy, 'settings' | 'rules'>): string {
  const settings = policy.settings.containers ?? defaultContainerSettings();
  if (settings.mode === 'off') return 'containers: off: ports Docker or kube-proxy publish (DNAT) bypass the inbound rules, container traffic is not filtered';
  const from = policy.rules.filter((r) => r.from != null).length;
  const egress =
    from === 0 && !settings.egressDrop
      ? 'container egress not filtered (no from: rules)'
      : `container egress: ${from} from: rule(s), the rest ${settings.egressDrop ? 'dropped' : 'let through'} (egress_drop: ${settings.egressDrop})`;
  return (
    'containers: enforce (default): ports published by DNAT to a host\'s own addresses (Docker, kube-proxy NodePorts) follow its inbound rules; ' +
    `${egress}; apply detects Docker, kube-proxy, Calico and Cilium on the host and says what it found`
  );
}
