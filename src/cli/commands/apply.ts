/** `palisade apply --host H`: compile this host's ruleset and load it safely (see src/apply/apply.ts). */
import { applyRuleset, type ApplyReport } from '../../apply/apply.ts';
import { describeDrift, listingLineText } from '../../apply/drift.ts';
import { listKernelEarly } from '../../apply/early-listing.ts';
import type { Pending } from '../../apply/state.ts';
import { awaitConfirmation } from '../../app/confirmation.ts';
import { changesAsText, describeChanges, dryRunChanges } from '../../apply/dry-run.ts';
import { UsageError } from '../../diagnostics.ts';
import type { BackendName } from '../../kernel/backend.ts';
import type { ConfigOverrides } from '../../app/config.ts';
import { toJson, type Output } from '../output.ts';
import { compileHost, loadWorkspace } from '../../app/workspace.ts';
import { hostContext, type HostOptions } from '../../app/host.ts';

export interface ApplyOptions extends ConfigOverrides, HostOptions {
  host: string;
  backend: BackendName;
  /** Milliseconds, parsed from --confirm. */
  confirm?: number;
  dryRun?: boolean;
  /** --dry-run's output. */
  format?: 'text' | 'json';
  force?: boolean;
  wait: boolean;
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
  if (options.format === 'json' && options.dryRun !== true) throw new UsageError('--format json goes with --dry-run (apply itself reports in text)');
  const ctx = hostContext(options);
  /* The kernel tool runs while the workspace loads and the ruleset compiles. */
  const earlyListing = listKernelEarly(ctx, options.backend);
  const ws = await loadWorkspace(options, { policyCache: ctx.stateDir });
  const ruleset = compileHost(ws, options.host);
  for (const w of ruleset.warnings) output.err(`warning: host "${ruleset.host}": ${w}`);
  const r = await applyRuleset(ctx, {
    earlyListing,
    ruleset,
    backend: options.backend,
    dryRun: options.dryRun === true,
    force: options.force === true,
    confirmMs: options.confirm ?? null,
    sshConnection: process.env.SSH_CONNECTION,
  });
  report(r, output);
  if (r.mode === 'dry-run') {
    const changes = await dryRunChanges(ctx.target, ruleset, options.backend);
    if (options.format === 'json') {
      const text = listingLineText(r.drift.backend);
      output.out(
        toJson({
          host: ruleset.host,
          backend: options.backend,
          hash: r.hash,
          drift: { drifted: r.drift.drifted, backend: r.drift.backend, extra: r.drift.extra.map(text), missing: r.drift.missing.map(text) },
          changes: { ...changesAsText(changes), membershipOnly: r.diff.membershipOnly },
          rendered: r.rendered,
        }),
      );
      return 0;
    }
    output.out(`# would load (${options.backend}, ruleset sha256 ${r.hash}):\n${r.rendered ?? ''}`);
    const how = r.diff.membershipOnly ? ['(set membership only: applied as element updates, no reload)'] : [];
    output.out([`# changes to the kernel's ${options.backend} ruleset (+ added, - removed), as \`palisade status\` shows drift:`, ...describeChanges(changes), ...how].join('\n'));
    return 0;
  }
  const how = { full: 'loaded (atomic reload)', membership: 'updated set elements only (no reload)', unchanged: 'already applied, nothing to do' }[r.mode];
  output.out(`${ruleset.host}: ${how}; ${options.backend}, sha256 ${r.hash.slice(0, 12)}, apply ${r.id}`);
  if (r.pending === null) return 0;
  output.out(`confirm within ${Math.round((options.confirm ?? 0) / 1000)}s (until ${r.pending.deadline}) with \`palisade confirm\`, from a new SSH session: otherwise it reverts`);
  return options.wait ? reportConfirmation(ctx.stateDir, r.pending, output) : 0;
}
