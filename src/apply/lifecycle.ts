/**
 * The rest of the apply life cycle on this host, each under the lock: confirm a pending apply, roll back
 * to the previous ruleset (on demand, or from the confirmation timer), stop (remove palisade's rules), and
 * restore the last applied ruleset at boot.
 */
import { BACKENDS } from '../kernel/backend.ts';
import { KernelError } from '../kernel/error.ts';
import { backendFor } from '../kernel/load.ts';
import { killTimer } from './confirm.ts';
import type { HostContext } from './context.ts';
import { detectDrift } from './drift.ts';
import { withLock } from './lock.ts';
import { loadState, saveState, type AppliedRecord, type State } from './state.ts';

async function stopTimer(state: State): Promise<void> {
  if (state.pending !== null) await killTimer(state.pending.timerPid, state.pending.id);
}

/** Loads a record's ruleset (removing the other backend's), refreshing the recorded listing; null removes palisade's. */
async function loadRecord(ctx: HostContext, record: AppliedRecord | null, replacing: AppliedRecord | null): Promise<AppliedRecord | null> {
  if (record === null) {
    if (replacing !== null) await backendFor(replacing.backend, ctx.target).remove();
    return null;
  }
  const backend = backendFor(record.backend, ctx.target);
  await backend.load(record.ruleset);
  if (replacing !== null && replacing.backend !== record.backend) await backendFor(replacing.backend, ctx.target).remove();
  return { ...record, listing: await backend.listing() };
}

/** Returns to state.previous: the kernel first, then the state; throws when there is nothing to return to. */
async function revert(ctx: HostContext, state: State): Promise<AppliedRecord | null> {
  if (state.previous === null) throw new KernelError('there is no previous ruleset to roll back to');
  const applied = await loadRecord(ctx, state.previous.record, state.applied);
  await saveState(ctx.stateDir, { version: state.version, applied, previous: null, pending: null });
  return applied;
}

export async function confirmApply(ctx: HostContext): Promise<AppliedRecord> {
  return withLock(ctx.stateDir, ctx.lockTimeoutMs, async () => {
    const state = await loadState(ctx.stateDir);
    if (state.pending === null || state.applied === null) throw new KernelError('no apply is waiting for confirmation');
    await stopTimer(state);
    await saveState(ctx.stateDir, { ...state, pending: null });
    return state.applied;
  });
}

/** `palisade rollback`: the previous ruleset (null: there was none, palisade's rules were removed). */
export async function rollback(ctx: HostContext): Promise<AppliedRecord | null> {
  return withLock(ctx.stateDir, ctx.lockTimeoutMs, async () => {
    const state = await loadState(ctx.stateDir);
    const applied = await revert(ctx, state);
    await stopTimer(state);
    return applied;
  });
}

export type TimerOutcome = 'reverted' | 'confirmed' | 'resynced' | 'in-sync';

/**
 * What the confirmation timer does at its deadline for apply `id`: revert it if still pending; nothing if it
 * was confirmed or superseded. If the state never recorded it (the applier died between loading and
 * recording), the kernel is brought back to what the state says is applied.
 */
export async function revertIfPending(ctx: HostContext, id: string): Promise<TimerOutcome> {
  return withLock(ctx.stateDir, ctx.lockTimeoutMs, async () => {
    const state = await loadState(ctx.stateDir);
    if (state.pending?.id === id) {
      await revert(ctx, state);
      return 'reverted';
    }
    if (state.applied?.id === id || state.previous?.record?.id === id) return 'confirmed';
    const drift = await detectDrift(state.applied, state.applied?.backend ?? 'nft', ctx.target);
    if (!drift.drifted) return 'in-sync';
    const applied = await loadRecord(ctx, state.applied, state.applied);
    await saveState(ctx.stateDir, { ...state, applied });
    return 'resynced';
  });
}

/** `palisade stop`: removes palisade's rules from both backends; rollback can bring them back. */
export async function stop(ctx: HostContext): Promise<AppliedRecord | null> {
  return withLock(ctx.stateDir, ctx.lockTimeoutMs, async () => {
    const state = await loadState(ctx.stateDir);
    for (const name of BACKENDS) await backendFor(name, ctx.target).remove();
    await stopTimer(state);
    const previous = state.applied !== null ? { record: state.applied } : state.previous;
    await saveState(ctx.stateDir, { version: state.version, applied: null, previous, pending: null });
    return state.applied;
  });
}

export interface RestoreOutcome {
  restored: AppliedRecord | null;
  /** An unconfirmed apply is never restored: the previous ruleset is, and the apply counts as not confirmed. */
  revertedPending: boolean;
}

/** `palisade restore` (at boot): loads the last applied ruleset from the state alone. */
export async function restore(ctx: HostContext): Promise<RestoreOutcome> {
  return withLock(ctx.stateDir, ctx.lockTimeoutMs, async () => {
    const state = await loadState(ctx.stateDir);
    if (state.pending !== null) {
      await stopTimer(state);
      return { restored: await revert(ctx, state), revertedPending: true };
    }
    if (state.applied === null) return { restored: null, revertedPending: false };
    const applied = await loadRecord(ctx, state.applied, null);
    await saveState(ctx.stateDir, { ...state, applied });
    return { restored: applied, revertedPending: false };
  });
}
