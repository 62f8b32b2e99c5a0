/** `palisade apply --host H`: compile this host's ruleset and load it safely (see src/apply/apply.ts). */
import { applyRuleset, type ApplyReport } from '../../apply/apply.ts';
import { describeDrift } from '../../apply/drift.ts';
import type { Pending } from '../../apply/state.ts';
import { awaitConfirmation } from '../../app/confirmation.ts';
import type { RulesetDiff } from '../../compile/diff.ts';
import type { BackendName } from '../../kernel/backend.ts';
import type { ConfigOverrides } from '../../app/config.ts';
import type { Output } from '../output.ts';
import { compileHost, loadWorkspace } from '../../app/workspace.ts';
import { hostContext, type HostOptions } from '../../app/host.ts';

export interface ApplyOptions extends ConfigOverrides, HostOptions {
  host: string;
  backend: BackendName;
  /** Milliseconds, parsed from --confirm. */
  confirm?: number;
  dryRun?: boolean;
  force?: boolean;
  wait: boolean;
}

const SHOWN_ELEMENTS = 20;

export function formatDiff(diff: RulesetDiff): string[] {
  if (diff.unchanged) return ['no change against the applied ruleset'];
  const lines = [...diff.rulesAdded.map((r) => `+ rule ${r}`), ...diff.rulesRemoved.map((r) => `- rule ${r}`)];
  lines.push(...diff.setsAdded.map((s) => `+ set ${s}`), ...diff.setsRemoved.map((s) => `- set ${s}`));
  const elements = (sign: string, changes: Record<string, string[]>): void => {
    for (const [set, items] of Object.entries(changes)) {
      const shown = items.slice(0, SHOWN_ELEMENTS).join(', ');
      lines.push(`${sign} ${items.length} element(s) of ${set}: ${shown}${items.length > SHOWN_ELEMENTS ? ', ...' : ''}`);
    }
  };
  elements('+', diff.elementsAdded);
  elements('-', diff.elementsRemoved);
  if (diff.membershipOnly) lines.push('(set membership only: applied as element updates, no reload)');
  return lines;
}

function report(r: ApplyReport, output: Output): void {
  for (const line of describeDrift(r.drift)) output.err(r.mode === 'dry-run' ? line : line.replace(/^drift:/, 'drift (replacing it):'));
  if (r.guard !== null) output.err(`${r.guard.allowed ? 'ssh' : 'warning'}: ${r.guard.reason}`);
  for (const w of r.warnings) output.err(`warning: ${w}`);
}

/** Reports how the timer or `palisade confirm` settled the apply: 0 kept, 1 reverted. */
async function reportConfirmation(stateDir: string, pending: Pending, output: Output): Promise<number> {
  const settled = await awaitConfirmation(stateDir, pending);
  if (settled.outcome === 'kept') {
    output.out(`confirmed: apply ${pending.id} is kept`);
    return 0;
  }
  if (settled.outcome === 'timer-silent') output.err(`error: the confirmation timer (pid ${pending.timerPid ?? 'none'}) did not revert; run \`palisade rollback\` or \`palisade confirm\``);
  else output.err(`error: apply ${pending.id} was not confirmed in time: reverted to ${settled.to === null ? 'no palisade ruleset' : `the previous ruleset (${settled.to.slice(0, 12)})`}`);
  return 1;
}

export async function applyCommand(options: ApplyOptions, output: Output): Promise<number> {
  const ws = await loadWorkspace(options);
  const ruleset = compileHost(ws, options.host);
  for (const w of ruleset.warnings) output.err(`warning: host "${ruleset.host}": ${w}`);
  const ctx = hostContext(options);
  const r = await applyRuleset(ctx, {
    ruleset,
    backend: options.backend,
    dryRun: options.dryRun === true,
    force: options.force === true,
    confirmMs: options.confirm ?? null,
    sshConnection: process.env.SSH_CONNECTION,
  });
  report(r, output);
  if (r.mode === 'dry-run') {
    output.out(`# would load (${options.backend}, ruleset sha256 ${r.hash}):\n${r.rendered ?? ''}`);
    output.out(`# diff against what is applied now:\n${formatDiff(r.diff).join('\n')}`);
    return 0;
  }
  const how = { full: 'loaded (atomic reload)', membership: 'updated set elements only (no reload)', unchanged: 'already applied, nothing to do' }[r.mode];
  output.out(`${ruleset.host}: ${how}; ${options.backend}, sha256 ${r.hash.slice(0, 12)}, apply ${r.id}`);
  if (r.pending === null) return 0;
  output.out(`confirm within ${Math.round((options.confirm ?? 0) / 1000)}s (until ${r.pending.deadline}) with \`palisade confirm\`, from a new SSH session: otherwise it reverts`);
  return options.wait ? reportConfirmation(ctx.stateDir, r.pending, output) : 0;
}
