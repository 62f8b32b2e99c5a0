/**
 * The console's answers, computed from a ConsoleWorld (src/app/console.ts): the map with its overlays (observed
 * flows, hosts' health), the hosts table, a host's page, explain by pointing (the deciding rule's file:line and
 * the set it matches), and a pending policy's effect (map changes, plan, cut flows, suggested rules). Every
 * front end may call these; the HTTP layer only parses requests and writes JSON.
 */
import { hostByAddress, analyseImpact } from '../audit/impact.ts';
import { enforcedCompiler } from '../audit/enforced.ts';
import { formatSuggestions, suggestRules } from '../audit/suggest.ts';
import { FleetCompiler, namesToResolve } from '../compile/compile.ts';
import type { Ruleset } from '../compile/ir.ts';
import type { Host } from '../inventory/types.ts';
import { loadState, resolveStateDir } from '../apply/state.ts';
import { countersOf, type PublishedCounters } from '../fleet/counters.ts';
import { backendFor } from '../kernel/load.ts';
import type { Target } from '../kernel/exec.ts';
import { describeOrigin } from '../compile/origin.ts';
import { InputError, UsageError } from '../diagnostics.ts';
import { explainFlow, ExplainError, type FlowExplanation } from '../explain/flow.ts';
import { layoutGraph } from '../graph/layout.ts';
import { buildRoleGraph } from '../graph/model.ts';
import type { GraphEdge, GraphNode, RoleGraph } from '../graph/types.ts';
import { nftLoadScript } from '../kernel/nft.ts';
import { makePlan } from '../plan/plan.ts';
import { parsePolicyFiles } from '../policy/load.ts';
import { resolveAll } from '../resolve/resolver.ts';
import type { ConsoleWorld } from './console.ts';
import type { HostRow } from './fleet-report.ts';
import type { CounterTotals, EdgeChange, FlowOverlay, HostCounters, HostPage, HostSummary, MapView, PendingView, PointedExplanation, SideSet } from './console-api.ts';
import { expandedRoles, mapFilter, openedEnvironments, type MapRequest } from './graph.ts';
import { aggregateGraph, filterGraph } from '../graph/model.ts';
import { parsePortSpec } from './port-spec.ts';

const cache = new WeakMap<ConsoleWorld['compiler'], Map<string, RoleGraph>>();

/** The whole map of a world, for an expand list; built once per compiler (policy and inventory) and expansion. */
function fullGraph(world: ConsoleWorld, expand: readonly string[]): RoleGraph {
  let byExpand = cache.get(world.compiler);
  if (byExpand === undefined) cache.set(world.compiler, (byExpand = new Map()));
  const key = JSON.stringify([...expand].sort());
  let graph = byExpand.get(key);
  if (graph === undefined) {
    graph = buildRoleGraph(world.compiler, world.policy, world.inventory, { expand: expandedRoles(world, expand) });
    if (byExpand.size >= 16) byExpand.clear();
    byExpand.set(key, graph);
  }
  return graph;
}

function nodeOfHost(graph: RoleGraph): Map<string, GraphNode> {
  const byHost = new Map<string, GraphNode>();
  for (const node of graph.nodes) for (const host of node.hosts) byHost.set(host, node);
  return byHost;
}

function flowOverlay(world: ConsoleWorld, graph: RoleGraph): FlowOverlay[] {
  const owner = hostByAddress(world.inventory.hosts);
  const byHost = nodeOfHost(graph);
  const overlays = new Map<string, FlowOverlay>();
  for (const flow of world.flows) {
    const from = byHost.get(owner(flow.source)?.name ?? '');
    const to = byHost.get(owner(flow.destination)?.name ?? '');
    if (from === undefined || to === undefined) continue;
    const key = `${from.id} ${to.id} ${flow.verdict}`;
    const entry = overlays.get(key) ?? { from: from.id, to: to.id, verdict: flow.verdict, flows: 0, records: 0, services: [] };
    entry.flows += 1;
    entry.records += flow.count;
    const service = flow.port === null ? flow.protocol : `${flow.protocol} ${flow.port}`;
    if (!entry.services.includes(service)) entry.services.push(service);
    overlays.set(key, entry);
  }
  return [...overlays.values()];
}

function health(world: ConsoleWorld, graph: RoleGraph): MapView['health'] {
  if (world.hosts === null) return {};
  const byHost = nodeOfHost(graph);
  const result: MapView['health'] = {};
  for (const row of world.hosts) {
    const node = byHost.get(row.host);
    if (node === undefined) continue;
    const counts = (result[node.id] ??= {});
    counts[row.state] = (counts[row.state] ?? 0) + 1;
  }
  return result;
}

export function mapView(world: ConsoleWorld, request: MapRequest = {}): MapView {
  const filter = mapFilter(request);
  const full = fullGraph(world, request.expand ?? []);
  const open = openedEnvironments(world, request.open ?? []);
  /* Filters first (a filtered map is often small enough to show every role), then large maps fold environments. */
  const graph = aggregateGraph(Object.keys(filter).length === 0 ? full : filterGraph(full, filter), { open });
  const keep = new Set(graph.nodes.map((n) => n.id));
  return {
    generation: world.generation,
    mode: world.mode,
    source: world.source,
    graph,
    layout: layoutGraph(graph),
    flows: flowOverlay(world, graph).filter((f) => keep.has(f.from) && keep.has(f.to)),
    health: health(world, graph),
    problems: world.problems,
  };
}

const totals = (c: PublishedCounters | undefined): CounterTotals | null => (c === undefined ? null : { at: c.at, dropped: c.dropped, rejected: c.rejected });

const summaryOf = (h: Host, row: HostRow | null, counters: PublishedCounters | undefined): HostSummary => ({
  name: h.name,
  environment: h.environment,
  roles: h.roles,
  tags: h.tags,
  addresses: [...h.addresses.v4, ...h.addresses.v6],
  fleet: row,
  counters: totals(counters),
});

export function hostsView(world: ConsoleWorld): { generation: number; hosts: HostSummary[] } {
  const rows = new Map((world.hosts ?? []).map((r) => [r.host, r]));
  const hosts = world.inventory.hosts.map((h) => summaryOf(h, rows.get(h.name) ?? null, world.counters.get(h.name)));
  /* Hosts the fleet knows of but the inventory does not hold (missing, unregistered): still rows. */
  const known = new Set(hosts.map((h) => h.name));
  for (const row of world.hosts ?? []) if (!known.has(row.host)) hosts.push({ name: row.host, environment: '', roles: [], tags: [], addresses: [], fleet: row, counters: totals(world.counters.get(row.host)) });
  return { generation: world.generation, hosts };
}

/**
 * The drop, reject and log counters of `name` when the console runs on that host (its state directory says
 * palisade applied `name`'s ruleset here); null anywhere else, or when the kernel cannot be read (not root).
 */
export async function localCounters(name: string, stateDir = resolveStateDir(undefined), target: Target = { netns: null }): Promise<HostCounters | null> {
  try {
    const applied = (await loadState(stateDir)).applied;
    if (applied?.host !== name) return null;
    return { source: 'local', ...countersOf(await backendFor(applied.backend, target).counters(), new Date()) };
  } catch {
    return null;
  }
}

/** A host's page, with the counters its agent published (the server prefers localCounters where it has them). */
export function hostPage(world: ConsoleWorld, name: string): HostPage {
  const host = world.compiler.host(name);
  if (host === undefined) throw new UsageError(`host "${name}" is not in the inventory`);
  const rs = world.compiler.compile(name);
  const published = world.counters.get(name);
  return {
    ...summaryOf(host, world.hosts?.find((r) => r.host === name) ?? null, published),
    counters: published === undefined ? null : { source: 'fleet', ...published },
    users: host.users,
    nft: nftLoadScript(rs),
    warnings: rs.warnings,
    sets: rs.sets.map((s) => ({ name: s.name, definition: s.definition, elements: s.elements.length })),
    rules: rs.chains.reduce((n, c) => n + c.rules.length, 0),
  };
}

function setsOfRule(rs: Ruleset, rule: string): SideSet[] {
  const byName = new Map(rs.sets.map((s) => [s.name, s]));
  const found: SideSet[] = [];
  for (const chain of rs.chains) {
    for (const r of chain.rules) {
      if (describeOrigin(r.origin) !== rule) continue;
      for (const m of r.matches) {
        if (m.kind !== 'saddr' && m.kind !== 'daddr') continue;
        const set = byName.get(m.set);
        if (set !== undefined && !found.some((f) => f.set === set.name)) found.push({ host: rs.host, rule, set: set.name, definition: set.definition, elements: set.elements.length });
      }
    }
  }
  return found;
}

export interface ExplainRequest {
  from: string;
  to: string;
  port: string;
  user?: string;
}

export function explainView(world: ConsoleWorld, request: ExplainRequest): PointedExplanation {
  const { protocol, port } = parsePortSpec(request.port);
  let explanation: FlowExplanation;
  try {
    explanation = explainFlow(world.compiler, world.inventory.hosts, {
      source: request.from,
      destination: request.to,
      protocol,
      port,
      sourcePort: null,
      user: request.user === undefined || request.user === '' ? null : request.user,
      family: null,
    });
  } catch (cause) {
    if (cause instanceof ExplainError) throw new UsageError(cause.message);
    throw cause;
  }
  const rules: PointedExplanation['rules'] = [];
  const sets: SideSet[] = [];
  for (const side of explanation.sides) {
    if (side.kind !== 'rule') continue;
    const name = /^rule "(.*)"$/s.exec(side.decidedBy)?.[1];
    const rule = world.policy.rules.find((r) => r.name === name);
    if (rule !== undefined) rules.push({ host: side.host, rule: rule.name, file: rule.origin.file, line: rule.origin.line });
    if (world.compiler.host(side.host) !== undefined) sets.push(...setsOfRule(world.compiler.compile(side.host), side.decidedBy));
  }
  return { explanation, rules, sets };
}

/** The largest pending policy the console accepts (bytes). */
export const MAX_PENDING_BYTES = 1024 * 1024;
const PENDING_FILE = 'pending.yaml';

const nodeKey = (n: GraphNode): string => `${n.kind}\u0000${n.environment ?? ''}\u0000${n.label}`;
const qualified = (n: GraphNode): string => (n.environment === null ? n.label : `${n.environment}/${n.label}`);

function edgeChanges(before: RoleGraph, after: RoleGraph): EdgeChange[] {
  const index = (g: RoleGraph): Map<string, { edge: GraphEdge; from: GraphNode; to: GraphNode }> => {
    const nodes = new Map(g.nodes.map((n) => [n.id, n]));
    return new Map(
      g.edges.map((edge) => {
        const from = nodes.get(edge.from) as GraphNode;
        const to = nodes.get(edge.to) as GraphNode;
        return [`${nodeKey(from)}\u0001${nodeKey(to)}`, { edge, from, to }];
      }),
    );
  };
  const was = index(before);
  const now = index(after);
  const describe = (e: GraphEdge): string[] => e.permissions.map((p) => `${p.action} ${p.protocol}${p.ports === null ? '' : ` ${p.ports}`}${p.user === null ? '' : ` as ${p.user}`} (${p.direction}: ${p.rule})`).sort();
  const changes: EdgeChange[] = [];
  for (const [key, n] of now) {
    const w = was.get(key);
    const after2 = describe(n.edge);
    const before2 = w === undefined ? [] : describe(w.edge);
    if (w !== undefined && JSON.stringify(before2) === JSON.stringify(after2)) continue;
    changes.push({ from: n.edge.from, to: n.edge.to, fromLabel: qualified(n.from), toLabel: qualified(n.to), change: w === undefined ? 'added' : 'changed', before: before2, after: after2 });
  }
  for (const [key, w] of was) {
    if (now.has(key)) continue;
    changes.push({ from: '', to: '', fromLabel: qualified(w.from), toLabel: qualified(w.to), change: 'removed', before: describe(w.edge), after: [] });
  }
  return changes;
}

/** Which node of `shown` (the map folded by aggregateGraph) holds a node of `full`: itself, or its environment's. */
function shownNode(full: RoleGraph, shown: RoleGraph): (id: string) => string {
  const kept = new Set(shown.nodes.map((n) => n.id));
  const byHost = new Map<string, string>();
  for (const n of shown.nodes) if (n.kind === 'environment') for (const host of n.hosts) byHost.set(host, n.id);
  const byId = new Map(full.nodes.map((n) => [n.id, n]));
  return (id) => (kept.has(id) ? id : (byHost.get(byId.get(id)?.hosts[0] ?? '') ?? id));
}

/**
 * A candidate policy (YAML or JSON text), judged against the world: errors are an InputError naming
 * `file`:line:col (pending.yaml for pasted text, the path of `console --pending FILE` for that file's text).
 */
export async function pendingView(world: ConsoleWorld, text: string, file: string = PENDING_FILE): Promise<PendingView> {
  if (Buffer.byteLength(text) > MAX_PENDING_BYTES) throw new InputError([{ severity: 'error', message: `the policy is larger than ${MAX_PENDING_BYTES} bytes`, file }]);
  const { policy, diagnostics } = parsePolicyFiles([{ path: file, text }]);
  const names = await resolveAll(namesToResolve(policy, world.inventory), world.resolver);
  const compiler = new FleetCompiler({ policy, inventory: world.inventory, names, now: world.compiler.now });
  const before = fullGraph(world, []);
  const graph = buildRoleGraph(compiler, policy, world.inventory);
  /* Shown like the map (a large one folded); the changes point at the shown nodes that hold their ends. */
  const shown = aggregateGraph(graph);
  const at = shownNode(graph, shown);
  const plan = makePlan(compiler.compileAll(), world.compiler.compileAll());
  const enforced = await enforcedCompiler(policy, world.inventory, world.resolver);
  const impact = analyseImpact(enforced, world.inventory.hosts, world.flows);
  const suggestions = suggestRules(enforced, world.inventory.hosts, policy, world.flows);
  return {
    diagnostics,
    graph: shown,
    layout: layoutGraph(shown),
    changes: edgeChanges(before, graph).map((c) => (c.change === 'removed' ? c : { ...c, from: at(c.from), to: at(c.to) })),
    plan: {
      totals: plan.totals,
      hosts: plan.hosts.filter((h) => h.status !== 'unchanged').slice(0, 500).map((h) => ({ host: h.host, status: h.status, rules: h.rules, elements: h.elements })),
    },
    cut: impact.groups,
    checked: impact.checked,
    suggest: formatSuggestions(suggestions, ['the observed flows']),
  };
}
