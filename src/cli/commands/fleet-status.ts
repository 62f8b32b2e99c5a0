/**
 * `palisade fleet status`: every host and what its agent applied, against the fleet's current policy and
 * inventory revisions. States: ok; lagging (applied revisions differ from the current ones); failing (the
 * agent reports an error); missing (a leased host without status, or a status whose host key is gone:
 * lease expired); static (registered without an agent); invalid (a status that does not parse).
 */
import { formatDiagnostic, type Diagnostic } from '../../diagnostics.ts';
import { readPerHost, readSnapshot } from '../../fleet/snapshot.ts';
import { parseStatus, type AgentStatus } from '../../fleet/status.ts';
import { FleetView } from '../../fleet/view.ts';
import { toJson, type Output } from '../output.ts';
import { withFleet, type FleetOptions } from './fleet-connection.ts';

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

export interface FleetStatusOptions extends FleetOptions {
  format: 'text' | 'json';
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
  return withFleet(options, async ({ client, keys, url }) => {
    const view = new FleetView(keys, url);
    view.reset(await readSnapshot(client, keys));
    const statuses = await readPerHost(client, keys.status);
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
    return { url, revision: view.revision, policyRevision, policyError, inventoryRevision: inventory.revision, hosts, diagnostics: inventory.diagnostics };
  });
}

function textReport(r: FleetReport): string {
  const lines = [`fleet ${r.url} at etcd revision ${r.revision}: policy ${r.policyRevision ?? (r.policyError === null ? 'none pushed' : 'INVALID')}, inventory ${r.inventoryRevision}`];
  if (r.policyError !== null) lines.push(`policy error: ${r.policyError}`);
  for (const row of r.hosts) {
    const s = row.status;
    const applied = s === null ? '-' : `rev ${s.revision} policy ${s.policyRevision ?? '-'} inventory ${s.inventoryRevision ?? '-'} ${s.hash?.slice(0, 12) ?? '-'} at ${s.appliedAt ?? '-'}`;
    lines.push(`${row.state.padEnd(8)} ${row.host.padEnd(24)} ${applied}${s?.error ? `\n         last error (${s.errorAt}): ${s.error}` : ''}`);
  }
  const count = (state: HostState): number => r.hosts.filter((h) => h.state === state).length;
  lines.push(`${r.hosts.length} host(s): ${count('ok')} ok, ${count('lagging')} lagging, ${count('failing')} failing, ${count('missing')} missing, ${count('static')} static`);
  lines.push(...r.diagnostics.map(formatDiagnostic));
  return lines.join('\n');
}

export async function fleetStatusCommand(options: FleetStatusOptions, output: Output): Promise<number> {
  const report = await readFleetReport(options);
  output.out(options.format === 'json' ? toJson(report) : textReport(report));
  return 0;
}
