/**
 * Where an agent's ruleset goes: the kernel through applyRuleset (lock, drift, full atomic load or
 * membership-only element updates, state), or, for benchmarks, a recorder that keeps the last ruleset.
 */
import { applyRuleset, type ApplyMode } from '../apply/apply.ts';
import type { HostContext } from '../apply/context.ts';
import type { Ruleset } from '../compile/ir.ts';
import type { BackendName } from '../kernel/backend.ts';

export interface AppliedResult {
  mode: ApplyMode;
  /** sha256 of what is loaded. */
  hash: string;
  warnings: string[];
}

export interface Applier {
  apply(ruleset: Ruleset): Promise<AppliedResult>;
}

export function kernelApplier(ctx: HostContext, backend: BackendName): Applier {
  return {
    async apply(ruleset) {
      const report = await applyRuleset(ctx, { ruleset, backend, dryRun: false, force: false, confirmMs: null, sshConnection: undefined });
      return { mode: report.mode, hash: report.hash, warnings: report.warnings };
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
    return { mode: 'full', hash: '', warnings: [] };
  }
}
