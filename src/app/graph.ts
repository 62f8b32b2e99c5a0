/** The role map of a workspace, as the `graph` command and the console ask for it (filters as people type them). */
import { UsageError } from '../diagnostics.ts';
import { aggregateGraph, buildRoleGraph, filterGraph, roleKey, roleOf, type GraphFilter } from '../graph/model.ts';
import type { RoleGraph } from '../graph/types.ts';
import { parsePortSpec } from './port-spec.ts';
import type { Workspace } from './workspace.ts';

export interface MapRequest {
  environment?: string;
  search?: string;
  /** As typed: `443`, `53/udp`, `icmp`. */
  port?: string;
  /** Roles shown as their hosts: `role` (every environment) or `environment/role`. */
  expand?: readonly string[];
  /** Environments shown as their roles on a map too large to show every role (graph/model.ts aggregateGraph). */
  open?: readonly string[];
  /** Every environment shown as its roles, whatever the map's size. */
  allRoles?: boolean;
}

export function mapFilter(request: MapRequest): GraphFilter {
  return {
    ...(request.environment === undefined || request.environment === '' ? {} : { environment: request.environment }),
    ...(request.search === undefined || request.search === '' ? {} : { search: request.search }),
    ...(request.port === undefined || request.port === '' ? {} : { port: parsePortSpec(request.port) }),
  };
}

/** The environments an open list names; an unknown one is a usage error. */
export function openedEnvironments(ws: Pick<Workspace, 'inventory'>, open: readonly string[]): Set<string> {
  const known = new Set(ws.inventory.hosts.map((h) => h.environment));
  for (const env of open) if (!known.has(env)) throw new UsageError(`no environment "${env}" in the inventory`);
  return new Set(open);
}

/** The role keys (`environment/role`) an expand list names; an unknown role is a usage error. */
export function expandedRoles(ws: Pick<Workspace, 'inventory'>, expand: readonly string[]): Set<string> {
  const keys = new Set<string>();
  const roles = new Map<string, string[]>();
  for (const host of ws.inventory.hosts) {
    const role = roleOf(host);
    const key = roleKey(host.environment, role);
    roles.set(role, [...new Set([...(roles.get(role) ?? []), key])]);
    roles.set(key, [key]);
  }
  for (const wanted of expand) {
    const found = roles.get(wanted);
    if (found === undefined) throw new UsageError(`no role "${wanted}" in the inventory (give ROLE or ENVIRONMENT/ROLE)`);
    for (const key of found) keys.add(key);
  }
  return keys;
}

/** The map as the `graph` command and the lab's HTML page draw it: filtered, then folded when still too large. */
export function roleMap(ws: Workspace, request: MapRequest = {}): RoleGraph {
  const filter = mapFilter(request);
  const graph = buildRoleGraph(ws.compiler, ws.policy, ws.inventory, { expand: expandedRoles(ws, request.expand ?? []) });
  const filtered = Object.keys(filter).length === 0 ? graph : filterGraph(graph, filter);
  return aggregateGraph(filtered, { open: request.allRoles === true ? new Set(graph.environments) : openedEnvironments(ws, request.open ?? []) });
}
