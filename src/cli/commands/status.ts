/** `palisade status [--format json]`: what is applied, pending confirmation, drift, dropped packets per chain. */
import { describeDrift } from '../../apply/drift.ts';
import { hostStatus, type HostStatus } from '../../apply/status.ts';
import { resolveStateDir } from '../../apply/state.ts';
import { toJson, type Output } from '../output.ts';
import type { HostOptions } from '../../app/host.ts';
import { EXIT } from '../../exit-codes.ts';

export interface StatusOptions extends Omit<HostOptions, 'lockTimeout'> {
  format: 'text' | 'json';
  /** Exit EXIT.attention on drift, EXIT.pending while an apply waits for confirmation. */
  exitCode?: boolean;
}

export function formatStatus(s: HostStatus): string {
  const lines: string[] = [`palisade ${s.version}`];
  const a = s.applied;
  if (a === null) lines.push('applied: nothing (no palisade ruleset)');
  else {
    lines.push(`applied: ${a.host}, ${a.backend}, sha256 ${a.hash}`);
    lines.push(`  at ${a.appliedAt} by \`palisade ${a.command.join(' ')}\` (apply ${a.id})`);
    lines.push(`  policy revision ${a.policyRevision}, inventory revision ${a.inventoryRevision}`);
  }
  if (s.pending !== null) {
    lines.push(`pending confirmation until ${s.pending.deadline}: run \`palisade confirm\`, or it reverts${s.pending.timerRunning ? '' : ' (warning: the revert timer is not running; confirm or roll back)'}`);
  }
  lines.push(s.previous === null ? 'rollback: nothing to roll back to' : `rollback: to ${s.previous.hash === null ? 'no palisade ruleset' : `sha256 ${s.previous.hash.slice(0, 12)} (${s.previous.appliedAt})`}`);
  lines.push(...(s.drift.drifted ? describeDrift(s.drift) : [a === null ? 'kernel: no palisade rules' : 'kernel: matches what was applied (no drift)']));
  for (const c of s.counters) {
    lines.push(`dropped in ${c.chain}: ${c.packets} packets, ${c.bytes} bytes${c.rejected > 0 ? `; rejected: ${c.rejected} packets, ${c.rejectedBytes} bytes` : ''}`);
  }
  return lines.join('\n');
}

export async function statusCommand(options: StatusOptions, output: Output): Promise<number> {
  const status = await hostStatus(resolveStateDir(options.stateDir), { netns: options.netns ?? null });
  output.out(options.format === 'json' ? toJson(status) : formatStatus(status));
  if (options.exitCode !== true) return EXIT.ok;
  if (status.drift.drifted) return EXIT.attention;
  return status.pending === null ? EXIT.ok : EXIT.pending;
}
