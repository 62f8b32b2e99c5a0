/**
 * `palisade apply`: guard the SSH session, take the lock, detect drift, then load the ruleset (a full
 * atomic reload, or element updates when only set membership changed), record it, and when asked arm a
 * confirmation timer that reverts unless `palisade confirm` runs in time. Exported for the fleet agent.
 */
import type { Ruleset } from '../compile/ir.ts';
import { diffRulesets, type RulesetDiff } from '../compile/diff.ts';
import { InputError, error } from '../diagnostics.ts';
import type { BackendName } from '../kernel/backend.ts';
import { KernelError } from '../kernel/error.ts';
import { interfaceHolding } from '../kernel/interfaces.ts';
import { backendFor } from '../kernel/load.ts';
import { killTimer, spawnTimer } from './confirm.ts';
import type { HostContext } from './context.ts';
import { detectDrift, type Drift } from './drift.ts';
import { withLock } from './lock.ts';
import { checkSshPeer, parseSshConnection, type GuardVerdict } from './ssh-guard.ts';
import { sha256 } from '../hash.ts';
import { loadState, newId, saveState, type AppliedRecord, type Pending, type State } from './state.ts';

export interface ApplyRequest {
  ruleset: Ruleset;
  backend: BackendName;
  dryRun: boolean;
  /** Skip the SSH-session guard. */
  force: boolean;
  /** Revert unless confirmed within this many milliseconds; null: no confirmation. */
  confirmMs: number | null;
  /** The SSH_CONNECTION of the session applying, if any. */
  sshConnection: string | undefined;
}

export type ApplyMode = 'full' | 'membership' | 'unchanged' | 'dry-run';

export interface ApplyReport {
  mode: ApplyMode;
  id: string;
  hash: string;
  rendered: string;
  /** Against what was applied before. */
  diff: RulesetDiff;
  drift: Drift;
  guard: GuardVerdict | null;
  pending: Pending | null;
  warnings: string[];
}

async function guardSsh(ctx: HostContext, request: ApplyRequest): Promise<GuardVerdict | null> {
  const peer = parseSshConnection(request.sshConnection);
  if (peer === null) return null;
  return checkSshPeer(request.ruleset, peer, await interfaceHolding(ctx.target, peer.serverIp));
}

function record(ctx: HostContext, request: ApplyRequest, id: string, rendered: string, listing: string | null): AppliedRecord {
  const rs = request.ruleset;
  return {
    id,
    host: rs.host,
    backend: request.backend,
    ruleset: rs,
    rendered,
    hash: sha256(rendered),
    policyRevision: rs.policyRevision,
    inventoryRevision: rs.inventoryRevision,
    appliedAt: new Date().toISOString(),
    command: ctx.command,
    listing,
  };
}

/** The rollback target after this apply: an unconfirmed apply is never one, the last confirmed state stays. */
function nextPrevious(state: State): State['previous'] {
  return state.pending !== null ? state.previous : { record: state.applied };
}

/**
 * The backends load atomically, but the iptables one is two restores (v4, v6): if the kernel no longer holds
 * what was applied (and did before), the applied ruleset is loaded again. Returns the error to throw.
 */
async function undoPartialLoad(ctx: HostContext, current: AppliedRecord | null, driftBefore: Drift, cause: Error): Promise<Error> {
  if (current === null || driftBefore.drifted || !(await detectDrift(current, current.backend, ctx.target)).drifted) return cause;
  try {
    await backendFor(current.backend, ctx.target).load(current.ruleset);
    return new KernelError(`${cause.message}\n(the load was partial: the previously applied ruleset was loaded again)`);
  } catch (again) {
    return new KernelError(`${cause.message}\n(the load was partial, and loading the previous ruleset again failed too: ${(again as Error).message})`);
  }
}

export async function applyRuleset(ctx: HostContext, request: ApplyRequest): Promise<ApplyReport> {
  const backend = backendFor(request.backend, ctx.target);
  const rendered = backend.render(request.ruleset);
  const guard = await guardSsh(ctx, request);
  if (guard !== null && !guard.allowed && !request.force && !request.dryRun) {
    throw new InputError([error(guard.reason, { host: request.ruleset.host })]);
  }
  return withLock(ctx.stateDir, ctx.lockTimeoutMs, async () => {
    const state = await loadState(ctx.stateDir);
    const current = state.applied;
    const drift = await detectDrift(current, request.backend, ctx.target);
    const diff = diffRulesets(current?.ruleset ?? null, request.ruleset);
    const id = newId();
    const base = { id, hash: sha256(rendered), rendered, diff, drift, guard, warnings: [] as string[] };
    if (request.dryRun) {
      await backend.check(request.ruleset);
      return { ...base, mode: 'dry-run', pending: state.pending };
    }
    const sameBackend = current?.backend === request.backend;
    if (diff.unchanged && sameBackend && !drift.drifted && state.pending === null && request.confirmMs === null) {
      return { ...base, id: current?.id ?? id, mode: 'unchanged', pending: null };
    }
    const membership = current !== null && diff.membershipOnly && sameBackend && !drift.drifted;
    const deadline = request.confirmMs === null ? null : new Date(Date.now() + request.confirmMs);
    /* Armed before the kernel changes: an applier killed at any later point is still reverted. */
    const timerPid = deadline === null ? null : await spawnTimer(id, deadline, ctx.stateDir, ctx.target);
    const warnings: string[] = [];
    try {
      if (membership) await backend.updateMembership(current.ruleset, request.ruleset);
      else warnings.push(...(await backend.load(request.ruleset)));
    } catch (cause) {
      await killTimer(timerPid, id);
      throw await undoPartialLoad(ctx, current, drift, cause as Error);
    }
    if (current !== null && !sameBackend) {
      await backendFor(current.backend, ctx.target)
        .remove()
        .catch((cause: Error) => warnings.push(`the previous ${current.backend} ruleset could not be removed: ${cause.message}`));
    }
    if (state.pending !== null) await killTimer(state.pending.timerPid, state.pending.id);
    const pending = deadline === null ? null : { id, deadline: deadline.toISOString(), timerPid };
    const applied = record(ctx, request, id, rendered, await backend.listing());
    await saveState(ctx.stateDir, { version: state.version, applied, previous: nextPrevious(state), pending });
    return { ...base, mode: membership ? 'membership' : 'full', pending, warnings };
  });
}
