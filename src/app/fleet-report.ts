/**
 * The fleet report (`fleet status`, the console's fleet page): every host and what its agent applied, against
 * the fleet's current policy and inventory revisions. States: ok; lagging (applied revisions differ from the
 * current ones); failing (the agent reports an error); missing (a leased host without status, or a status
 * whose host key is gone: lease expired); static (registered without an agent); invalid (a status that does
 * not parse).
 */
import type { Diagnostic } from '../diagnostics.ts';
import { readPerHost } from '../fleet/snapshot.ts';
import { parseStatus, type AgentStatus } from '../fleet/status.ts';
import { readFleetView, withFleet, type FleetOptions } from './fleet.ts';

export type HostState = 'ok' | 'lagging' | 'failing' | 'missing' | 'static' | 'invalid';

export interface HostRow {
  host: string;
  state: HostState;
  /** Whether the host's key is on a lease; null when there is no host key. */
  leased: boolean | null;
  status: AgentStatus | null;
}

export interface FleetReport {
  url: string;
  revision: number;
  policyRevision: string | null;
  policyError: string | null;
  inventoryRevision: string;
  hosts: HostRow[];
  diagnostics: Diagnostic[];
}

/** Pure: the state of one host. */
export function hostState(leased: boolean | null, raw: string | undefined, current: { policy: string | null; inventory: string }): { state: HostState; status: AgentStatus | null } {
  const status = raw === undefined ? null : parseStatus(raw);
  if (raw !== undefined && status === null) return { state: 'invalid', status };
  if (leased === false && status === null) return { state: 'static', status };
  if (leased === null || status === null) return { state: 'missing', status };
  if (status.error !== null) return { state: 'failing', status };
  const lagging = status.policyRevision !== current.policy || status.inventoryRevision !== current.inventory;
  return { state: lagging ? 'lagging' : 'ok', status };
}

export async function readFleetReport(options: FleetOptions): Promise<FleetReport> {
  return withFleet(options, async (fleet) => {
    const view = await readFleetView(fleet);
    const statuses = await readPerHost(fleet.client, fleet.keys.status);
    let policyRevision: string | null = null;
    let policyError: string | null = null;
    try {
      policyRevision = view.policy()?.policy.revision ?? null;
    } catch (cause) {
      policyError = (cause as Error).message;
    }
    const inventory = view.inventory();
    const names = [...new Set([...inventory.hosts.map((h) => h.name), ...statuses.keys()])].sort();
    const current = { policy: policyRevision, inventory: inventory.revision };
    const hosts = names.map((host) => {
      const leased = view.leased(host) ?? null;
      return { host, leased, ...hostState(inventory.hosts.some((h) => h.name === host) ? leased : null, statuses.get(host), current) };
    });
    return { url: fleet.url, revision: view.revision, policyRevision, policyError, inventoryRevision: inventory.revision, hosts, diagnostics: inventory.diagnostics };
  });
}
