/**
 * The role map's shapes, as types only: the graph (src/graph/model.ts) and where its boxes and arrows go
 * (src/graph/layout.ts). This module imports nothing, so the console page (src/console/ui, type-checked for the
 * browser without node's types) and the server share these definitions through src/app/console-api.ts.
 */

/** `environment`: an environment's roles folded into one node (a large map, src/graph/model.ts aggregateGraph). */
export type NodeKind = 'role' | 'host' | 'network' | 'name' | 'environment';

export interface GraphNode {
  /** Stable within one graph (`n0`, `n1`...): safe in any attribute, never derived from a name. */
  id: string;
  kind: NodeKind;
  /** Roles, hosts and environment nodes: the environment; networks and outside names: null. */
  environment: string | null;
  /** The role key (`api`, `api+worker`, `(no role)`), the host name, the network, the outside name or the environment. */
  label: string;
  /** The hosts in the node (role, host and environment nodes), sorted. */
  hosts: string[];
  /** Environment nodes: the role keys folded into it, sorted; absent on every other node. */
  roles?: string[];
}

/** One rule's part of an edge. */
export interface Permission {
  rule: string;
  /** in: the receiving host's rule (source = the edge's `from`); out: the sending host's rule. */
  direction: 'in' | 'out';
  /** The rule's action (`log` rules are not on the map). */
  action: 'accept' | 'drop' | 'reject';
  /** The policy's protocol (`tcp`, `udp`, `icmp`, `icmpv6`, `vrrp`, `ospf`, `all`). */
  protocol: string;
  /** Destination ports as written (`80`, `8000-8010`), null = any port or a protocol without ports. */
  ports: string | null;
  user: string | null;
  service: string | null;
  /** The rule's peers and carriers as written. */
  peers: string;
  on: string | null;
  file: string;
  line: number;
}

export interface GraphEdge {
  id: string;
  from: string;
  to: string;
  permissions: Permission[];
  /** Distinct `protocol ports` of the accepting rules, then of the denying ones (`tcp 80`, `vrrp`). */
  services: string[];
  /** accept: every rule accepts; deny: every rule drops or rejects; mixed: both. */
  verdict: 'accept' | 'deny' | 'mixed';
  /** An edge to or from an environment node: how many edges of the full map it stands for; absent otherwise. */
  merged?: number;
}

export interface RoleGraph {
  environments: string[];
  nodes: GraphNode[];
  edges: GraphEdge[];
  hostCount: number;
  policyRevision: string;
  inventoryRevision: string;
  /** Role and host nodes folded into environment nodes (aggregateGraph); 0 when every role is shown. */
  hiddenRoles?: number;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface GroupBox extends Box {
  /** The environment, or null for networks and names outside the inventory. */
  environment: string | null;
  label: string;
}

export interface EdgeLine {
  path: string;
  labelX: number;
  labelY: number;
}

export interface MapLayout {
  width: number;
  height: number;
  groups: GroupBox[];
  /** By node id. */
  nodes: Record<string, Box>;
  /** By edge id: an SVG path (`M … C …`) from the sender's box to the receiver's, and where its label goes. */
  edges: Record<string, EdgeLine>;
}
