/**
 * Where an agent's ruleset goes: the kernel through applyRuleset (lock, drift, full atomic load or
 * membership-only element updates, state), or, for benchmarks, a recorder that keeps the last ruleset.
 * In fleet mode, a load that changes rules is confirmed only once the agent reaches etcd again on new
 * connections (established ones survive any ruleset): otherwise it is rolled back at once, and the
 * confirmation timer of `apply --confirm` reverts it even if the agent dies meanwhile.
 */
import { setTimeout as wait } from 'node:timers/promises';
import { applyRuleset, type ApplyMode } from '../apply/apply.ts';
import type { HostContext } from '../apply/context.ts';
import { confirmApply, rollback } from '../apply/lifecycle.ts';
import { loadState, sameRuleset } from '../apply/state.ts';
import { diffRulesets } from '../compile/diff.ts';
import type { Ruleset } from '../compile/ir.ts';
import { InputError, error } from '../diagnostics.ts';
import type { BackendName } from '../kernel/backend.ts';

export interface AppliedResult {
  mode: ApplyMode;
  /** sha256 of the ruleset loaded (its IR). */
  hash: string;
  warnings: string[];
  /** The kernel differed from the last applied ruleset (and was loaded again). */
  drifted: boolean;
}

export interface Applier {
  apply(ruleset: Ruleset): Promise<AppliedResult>;
}

/** The agent lives long: it watches the kernel, so unchanged rulesets cost no lock and no listing. */
export function kernelApplier(ctx: HostContext, backend: BackendName): Applier {
  return {
    async apply(ruleset) {
      const report = await applyRuleset({ ...ctx, watchKernel: true }, { ruleset, backend, dryRun: false, force: false, confirmMs: null, sshConnection: undefined });
      return { mode: report.mode, hash: report.hash, warnings: report.warnings, drifted: report.drift.drifted };
    },
  };
}

export interface ControlPlaneCheck {
  /** Whether new connections reach etcd now. */
  reachable: () => Promise<boolean>;
  /** How long to keep trying before rolling back. */
  windowMs: number;
}

/** kernelApplier, with fleet-level confirm-or-rollback of every load that changes rules. */
export function confirmingApplier(ctx: HostContext, backend: BackendName, check: ControlPlaneCheck): Applier {
  return {
    async apply(ruleset) {
      const current = (await loadState(ctx.stateDir)).applied;
      /* An unchanged ruleset costs no diff. */
      const diff = current !== null && sameRuleset(current.ruleset, ruleset) ? null : diffRulesets(current?.ruleset ?? null, ruleset);
      const confirm = diff !== null && !diff.unchanged && (current === null || !diff.membershipOnly);
      const report = await applyRuleset({ ...ctx, watchKernel: true }, { ruleset, backend, dryRun: false, force: false, confirmMs: confirm ? check.windowMs + 10_000 : null, sshConnection: undefined });
      if (report.pending !== null) {
        const deadline = Date.now() + check.windowMs;
        let reached = await check.reachable();
        while (!reached && Date.now() < deadline) {
          await wait(250);
          reached = await check.reachable();
        }
        if (!reached) {
          await rollback(ctx);
          throw new InputError([error(`after applying ruleset ${report.hash.slice(0, 12)}, etcd could not be reached on a new connection within ${check.windowMs} ms: rolled back to the previous ruleset`, { host: ruleset.host })]);
        }
        await confirmApply(ctx);
      }
      return { mode: report.mode, hash: report.hash, warnings: report.warnings, drifted: report.drift.drifted };
    },
  };
}

/** Records rulesets instead of loading them (no rendering either): `last` is what the kernel would have. */
export class RecordingApplier implements Applier {
  last: Ruleset | null = null;
  applies = 0;

  async apply(ruleset: Ruleset): Promise<AppliedResult> {
    this.last = ruleset;
    this.applies++;
    return { mode: 'full', hash: '', warnings: [], drifted: false };
  }
}
