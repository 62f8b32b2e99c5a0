/** `palisade fleet status`: the fleet report (src/app/fleet-report.ts) as a table or JSON; exit 3 when a host needs attention. */
import type { FleetOptions } from '../../app/fleet.ts';
import { readFleetReport, reportExitCode, type FleetReport, type HostState } from '../../app/fleet-report.ts';
import { formatDiagnostic } from '../../diagnostics.ts';
import { toJson, type Output } from '../output.ts';
import { progressSink } from '../terminal.ts';

export interface FleetStatusOptions extends FleetOptions {
  format: 'text' | 'json';
}

function textReport(r: FleetReport): string {
  const lines = [`fleet ${r.url} at etcd revision ${r.revision}: policy ${r.policyRevision ?? (r.policyError === null ? 'none pushed' : 'INVALID')}, inventory ${r.inventoryRevision}`];
  if (r.policyError !== null) lines.push(`policy error: ${r.policyError}`);
  if (r.rollout !== null) lines.push(`canary rollout running since ${r.rollout.startedAt}: canaries ${r.rollout.canaries.join(', ')}`);
  for (const row of r.hosts) {
    const s = row.status;
    const applied = s === null ? '-' : `rev ${s.revision} policy ${s.policyRevision ?? '-'} inventory ${s.inventoryRevision ?? '-'} ${s.hash?.slice(0, 12) ?? '-'} at ${s.appliedAt ?? '-'}`;
    lines.push(`${row.state.padEnd(12)} ${row.host.padEnd(24)} ${applied}${s?.error ? `\n             last error (${s.errorAt}): ${s.error}` : ''}`);
  }
  for (const c of r.conflicts) lines.push(`conflict: address ${c.address} belongs to ${c.owner} (${c.pinned ? 'pinned' : 'claimed first'}), not to ${c.loser}`);
  const states: HostState[] = ['ok', 'static', 'lagging', 'conflict', 'drifted', 'failing', 'down', 'missing', 'unregistered', 'invalid'];
  const counts = states.map((state) => [state, r.hosts.filter((h) => h.state === state).length] as const).filter(([state, n]) => n > 0 || state === 'ok');
  lines.push(`${r.hosts.length} host(s): ${counts.map(([state, n]) => `${n} ${state}`).join(', ')}`);
  lines.push(...r.diagnostics.map(formatDiagnostic));
  return lines.join('\n');
}

export async function fleetStatusCommand(options: FleetStatusOptions, output: Output): Promise<number> {
  const bar = progressSink('reading the fleet (view, statuses, report)');
  const report = await readFleetReport(options, bar.tick).finally(() => bar.end());
  output.out(options.format === 'json' ? toJson(report) : textReport(report));
  return reportExitCode(report);
}
