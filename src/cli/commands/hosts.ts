/** `palisade hosts put FILE | --name ...`, `hosts rm NAME` and `hosts sync --from SOURCE` (src/app/hosts.ts, src/app/hosts-sync.ts). */
import type { FleetOptions } from '../../app/fleet.ts';
import { registerHosts, removeHost, staticHosts, type HostFields } from '../../app/hosts.ts';
import { syncHosts, type SyncOptions, type SyncPlan } from '../../app/hosts-sync.ts';
import { OperationError, sanitize } from '../../diagnostics.ts';
import { reportDiagnostics, toJson, type Output } from '../output.ts';

export interface HostsPutOptions extends FleetOptions, HostFields {}

export async function hostsPutCommand(file: string | undefined, options: HostsPutOptions, output: Output): Promise<number> {
  const hosts = await staticHosts(file, options);
  const { url, diagnostics } = await registerHosts(hosts, options);
  reportDiagnostics(output, diagnostics);
  output.out(`registered ${hosts.length} static host(s) in ${url}: ${hosts.map((h) => h.name).join(', ')}`);
  return 0;
}

export async function hostsRmCommand(name: string, options: FleetOptions, output: Output): Promise<number> {
  const { url, removed } = await removeHost(name, options);
  if (!removed) throw new OperationError(`no host "${name}" in ${url}`, { kind: 'fleet' });
  output.out(`removed host ${name} from ${url}`);
  return 0;
}

export interface HostsSyncOptions extends SyncOptions {
  format: 'text' | 'json';
}

function formatPlan(plan: SyncPlan): string {
  const lines = [`${sanitize(plan.source)} lists ${plan.listed} host(s); ${plan.url}:`];
  for (const { name } of plan.add) lines.push(`  add     ${name}`);
  for (const { name, fields } of plan.update) lines.push(`  update  ${name}: ${fields.join(', ')}`);
  for (const name of plan.remove) lines.push(`  remove  ${name}`);
  lines.push(`  unchanged: ${plan.unchanged}`);
  const counts = `${plan.add.length} added, ${plan.update.length} updated, ${plan.remove.length} removed`;
  lines.push(plan.written ? `synced: ${counts}` : `dry run, nothing written: would be ${counts}`);
  return `${lines.join('\n')}\n`;
}

export async function hostsSyncCommand(options: HostsSyncOptions, output: Output): Promise<number> {
  const plan = await syncHosts(options);
  reportDiagnostics(output, plan.diagnostics);
  output.out(options.format === 'json' ? toJson({ ...plan, diagnostics: undefined }) : formatPlan(plan));
  return 0;
}
