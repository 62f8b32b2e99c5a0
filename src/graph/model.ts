/**
 * The role map: policy × inventory → who may talk to whom, aggregated by role. Pure: the same inputs give the
 * same graph. Nodes are the hosts' roles per environment (a host with several roles is one node named by all
 * of them, `api+worker`, so every host is in exactly one node), networks and names outside the inventory; an
 * edge carries every rule that lets (or forbids) a host of one node talk to a host of the other. Rules are
 * expanded the way the compiler expands them (environment scope, SAMETAG of the carrying host, users that do
 * not exist on a host), one carrier scope at a time, so the map at 10,000 hosts costs what compiling the
 * distinct (environment, tags) combinations costs, not a walk over host pairs.
 */
import type { FleetCompiler } from '../compile/compile.ts';
import { InternalError } from '../diagnostics.ts';
import { endpointsUseSametag } from '../compile/set-definitions.ts';
import type { Host, Inventory } from '../inventory/types.ts';
import type { Endpoint, Policy, PortRange, Protocol, Rule } from '../policy/types.ts';
import type { GraphEdge, GraphNode, NodeKind, Permission, RoleGraph } from './types.ts';

export interface GraphOptions {
  /** Role keys (`environment/role`) shown as their hosts, one node per host. */
  expand?: ReadonlySet<string>;
}

export const NO_ROLE = '(no role)';

/** A host's role key: its roles sorted and joined with `+`. */
export function roleOf(host: Host): string {
  return host.roles.length === 0 ? NO_ROLE : [...host.roles].sort().join('+');
}

export const roleKey = (environment: string, role: string): string => `${environment}/${role}`;

export function formatPorts(ranges: readonly PortRange[] | null): string | null {
  if (ranges === null) return null;
  return ranges.map((r) => (r.from === r.to ? String(r.from) : `${r.from}-${r.to}`)).join(', ');
}

const serviceText = (p: Permission): string => (p.ports === null ? p.protocol : `${p.protocol} ${p.ports}`);

function peersText(peers: readonly Endpoint[]): string {
  return peers.map((p) => p.text).join(', ');
}

function permissionOf(rule: Rule): Permission | null {
  if (rule.action === 'log') return null;
  return {
    rule: rule.name,
    direction: rule.direction,
    action: rule.action,
    protocol: rule.protocol,
    ports: formatPorts(rule.dport),
    user: rule.user,
    service: rule.service?.unit ?? null,
    peers: peersText(rule.peers),
    on: rule.onText,
    file: rule.origin.file,
    line: rule.origin.line,
  };
}

class GraphBuilder {
  private readonly nodes = new Map<string, { kind: NodeKind; environment: string | null; label: string; hosts: string[] }>();
  private readonly nodeOfHost = new Map<string, string>();
  private readonly edges = new Map<string, { from: string; to: string; permissions: Permission[] }>();

  constructor(hosts: readonly Host[], expand: ReadonlySet<string>) {
    for (const host of hosts) {
      const role = roleOf(host);
      const expanded = expand.has(roleKey(host.environment, role));
      const key = expanded ? `host\u0000${host.name}` : `role\u0000${host.environment}\u0000${role}`;
      const node = this.node(key, expanded ? 'host' : 'role', host.environment, expanded ? host.name : role);
      node.hosts.push(host.name);
      this.nodeOfHost.set(host.name, key);
    }
  }

  private node(key: string, kind: NodeKind, environment: string | null, label: string): { hosts: string[] } {
    let node = this.nodes.get(key);
    if (node === undefined) {
      node = { kind, environment, label, hosts: [] };
      this.nodes.set(key, node);
    }
    return node;
  }

  hostNode(host: Host): string {
    const key = this.nodeOfHost.get(host.name);
    if (key === undefined) throw new InternalError(`host "${host.name}" selected by a query is not in the map's inventory`);
    return key;
  }

  outside(kind: 'network' | 'name', label: string): string {
    const key = `${kind}\u0000${label}`;
    this.node(key, kind, null, label);
    return key;
  }

  connect(from: string, to: string, permission: Permission): void {
    const key = `${from}\u0001${to}`;
    let edge = this.edges.get(key);
    if (edge === undefined) {
      edge = { from, to, permissions: [] };
      this.edges.set(key, edge);
    }
    if (!edge.permissions.includes(permission)) edge.permissions.push(permission);
  }

  build(meta: Omit<RoleGraph, 'nodes' | 'edges' | 'environments'>): RoleGraph {
    const order = (a: [string, { kind: NodeKind; environment: string | null; label: string }], b: typeof a): number => {
      const rank = (k: NodeKind): number => (k === 'role' || k === 'host' ? 0 : k === 'network' ? 1 : 2);
      return rank(a[1].kind) - rank(b[1].kind) || compare(a[1].environment ?? '', b[1].environment ?? '') || compare(a[1].label, b[1].label);
    };
    const sorted = [...this.nodes.entries()].sort(order);
    const ids = new Map(sorted.map(([key], i) => [key, `n${i}`]));
    const nodes: GraphNode[] = sorted.map(([key, n]) => ({ id: ids.get(key) as string, kind: n.kind, environment: n.environment, label: n.label, hosts: [...n.hosts].sort(compare) }));
    const edges = [...this.edges.values()]
      .map((e) => ({ ...e, from: ids.get(e.from) as string, to: ids.get(e.to) as string }))
      .sort((a, b) => Number(a.from.slice(1)) - Number(b.from.slice(1)) || Number(a.to.slice(1)) - Number(b.to.slice(1)))
      .map((e, i): GraphEdge => ({ id: `e${i}`, from: e.from, to: e.to, ...summarise(e.permissions) }));
    const environments = [...new Set(nodes.flatMap((n) => (n.environment === null ? [] : [n.environment])))].sort(compare);
    return { environments, nodes, edges, ...meta };
  }
}

function summarise(permissions: Permission[]): Pick<GraphEdge, 'permissions' | 'services' | 'verdict'> {
  const accepting = permissions.filter((p) => p.action === 'accept');
  const denying = permissions.filter((p) => p.action !== 'accept');
  return {
    permissions,
    services: [...new Set([...accepting.map(serviceText), ...denying.map(serviceText)])],
    verdict: denying.length === 0 ? 'accept' : accepting.length === 0 ? 'deny' : 'mixed',
  };
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The map of what the policy lets the inventory's hosts do. */
export function buildRoleGraph(compiler: FleetCompiler, policy: Policy, inventory: Inventory, options: GraphOptions = {}): RoleGraph {
  const hosts = inventory.hosts;
  const builder = new GraphBuilder(hosts, options.expand ?? new Set());
  for (const rule of policy.rules) {
    const permission = permissionOf(rule);
    if (permission === null) continue;
    const scoped = rule.peers.some((p) => p.kind === 'query') && !rule.options.disableEnvLimit;
    const sametag = endpointsUseSametag(rule.peers);
    /* Carriers that see the same peers: same environment scope, same tags when SAMETAG is used. */
    const scopes = new Map<string, { self: Host; carriers: Set<string> }>();
    hosts.forEach((host, position) => {
      if (!compiler.carries(rule, host, position) || compiler.skipReason(rule, host) !== null) return;
      const key = `${scoped ? host.environment : ''}\u0000${sametag ? JSON.stringify([...new Set(host.tags.map((t) => t.toLowerCase()))].sort()) : ''}`;
      let scope = scopes.get(key);
      if (scope === undefined) {
        scope = { self: host, carriers: new Set() };
        scopes.set(key, scope);
      }
      scope.carriers.add(builder.hostNode(host));
    });
    for (const { self, carriers } of scopes.values()) {
      const peers = new Set<string>();
      for (const peer of rule.peers) {
        if (peer.kind === 'cidr') peers.add(builder.outside('network', peer.cidr));
        else if (peer.kind === 'hostname') {
          const named = compiler.host(peer.name);
          peers.add(named === undefined ? builder.outside('name', peer.name.toLowerCase()) : builder.hostNode(named));
        } else {
          const selected = compiler.index.select(peer.query, { environment: scoped ? self.environment : null, self: sametag ? self : null });
          for (const host of selected) peers.add(builder.hostNode(host));
        }
      }
      for (const carrier of carriers) {
        for (const peer of peers) {
          if (rule.direction === 'in') builder.connect(peer, carrier, permission);
          else builder.connect(carrier, peer, permission);
        }
      }
    }
  }
  return builder.build({ hostCount: hosts.length, policyRevision: policy.revision, inventoryRevision: inventory.revision });
}

export interface GraphFilter {
  environment?: string;
  /** Substring of a role, host or network label (case-insensitive); the matching nodes and their neighbours stay. */
  search?: string;
  /** Only edges with a rule on this port (or any port) of this protocol, e.g. 443 or 53/udp. */
  port?: { protocol: Protocol; port: number | null };
}

function permits(p: Permission, port: NonNullable<GraphFilter['port']>): boolean {
  if (p.protocol !== 'all' && p.protocol !== port.protocol) return false;
  if (p.ports === null || port.port === null) return true;
  return p.ports.split(', ').some((range) => {
    const [from, to = from] = range.split('-').map(Number) as [number, number?];
    return (port.port as number) >= from && (port.port as number) <= (to as number);
  });
}

/** The part of the map a reader asked for: an environment (with the networks it talks to), a search, a port. */
export function filterGraph(graph: RoleGraph, filter: GraphFilter): RoleGraph {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  let edges = graph.edges;
  if (filter.port !== undefined) {
    const port = filter.port;
    edges = edges.flatMap((e) => {
      const permissions = e.permissions.filter((p) => permits(p, port));
      return permissions.length === 0 ? [] : [{ ...e, ...summarise(permissions) }];
    });
  }
  const inEnvironment = (id: string): boolean => {
    const env = byId.get(id)?.environment ?? null;
    return filter.environment === undefined || env === null || env === filter.environment;
  };
  edges = edges.filter((e) => inEnvironment(e.from) && inEnvironment(e.to));
  let keep = new Set(graph.nodes.filter((n) => filter.environment === undefined ? true : n.environment === filter.environment).map((n) => n.id));
  for (const e of edges) keep.add(e.from).add(e.to);
  const search = filter.search?.trim().toLowerCase();
  if (search !== undefined && search !== '') {
    const hits = new Set(graph.nodes.filter((n) => keep.has(n.id) && (n.label.toLowerCase().includes(search) || n.hosts.some((h) => h.toLowerCase().includes(search)))).map((n) => n.id));
    edges = edges.filter((e) => hits.has(e.from) || hits.has(e.to));
    keep = new Set(hits);
    for (const e of edges) keep.add(e.from).add(e.to);
  } else if (filter.port !== undefined) {
    keep = new Set(edges.flatMap((e) => [e.from, e.to]));
  }
  const nodes = graph.nodes.filter((n) => keep.has(n.id));
  return { ...graph, nodes, edges, environments: graph.environments.filter((env) => nodes.some((n) => n.environment === env)) };
}

/** Role and host nodes a map shows before it folds environments into one node each: more is unreadable. */
export const MAX_SHOWN_ROLES = 60;

export interface AggregateOptions {
  /** Environments shown as their roles whatever the map's size. */
  open?: ReadonlySet<string>;
  /** Fold environments when the map has more role and host nodes than this. */
  maxRoles?: number;
}

/**
 * A large map made readable: when it has more than `maxRoles` role and host nodes, every environment not in
 * `open` becomes one node holding its roles' hosts, and the edges between the nodes that stand for them merge
 * into one (its rules once each, `merged` = how many edges it stands for; the edges within an environment
 * become its loop). Networks and outside names stay. Small maps (a filtered one too) come back unchanged.
 */
export function aggregateGraph(graph: RoleGraph, options: AggregateOptions = {}): RoleGraph {
  const open = options.open ?? new Set<string>();
  const inside = graph.nodes.filter((n) => n.kind === 'role' || n.kind === 'host');
  if (inside.length <= (options.maxRoles ?? MAX_SHOWN_ROLES)) return { ...graph, hiddenRoles: 0 };
  const folded = new Map<string, GraphNode>();
  const target = new Map<string, string>();
  let hidden = 0;
  for (const env of graph.environments.filter((e) => !open.has(e))) {
    const members = inside.filter((n) => n.environment === env);
    if (members.length === 0) continue;
    const id = `a${folded.size}`;
    folded.set(env, {
      id,
      kind: 'environment',
      environment: env,
      label: env,
      hosts: members.flatMap((n) => n.hosts).sort(compare),
      roles: members.map((n) => n.label).sort(compare),
    });
    for (const n of members) target.set(n.id, id);
    hidden += members.length;
  }
  const at = (id: string): string => target.get(id) ?? id;
  const merged = new Map<string, { from: string; to: string; permissions: Set<Permission>; edges: GraphEdge[] }>();
  for (const e of graph.edges) {
    const key = `${at(e.from)} ${at(e.to)}`;
    const entry = merged.get(key) ?? { from: at(e.from), to: at(e.to), permissions: new Set<Permission>(), edges: [] };
    for (const p of e.permissions) entry.permissions.add(p);
    entry.edges.push(e);
    merged.set(key, entry);
  }
  const edges = [...merged.values()].map((m, i): GraphEdge => {
    const lone = m.edges.length === 1 && m.from === m.edges[0]?.from && m.to === m.edges[0]?.to;
    return lone ? { ...(m.edges[0] as GraphEdge), id: `e${i}` } : { id: `e${i}`, from: m.from, to: m.to, ...summarise([...m.permissions]), merged: m.edges.length };
  });
  const nodes = [...folded.values(), ...graph.nodes.filter((n) => !target.has(n.id))];
  return { ...graph, nodes, edges, hiddenRoles: hidden };
}
