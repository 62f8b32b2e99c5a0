/**
 * The rest of the apply life cycle on this host, each under the lock: confirm a pending apply, roll back
 * to the previous ruleset (on demand, or from the confirmation timer), stop (remove palisade's rules), and
 * restore the last applied ruleset at boot.
 */
import { BACKENDS } from '../kernel/backend.ts';
import { backendFor } from '../kernel/load.ts';
import { killTimer } from './confirm.ts';
import type { HostContext } from './context.ts';
import { compareListings, describeDrift, detectDrift } from './drift.ts';
import { withLock } from './lock.ts';
import { loadState, saveState, StateError, type AppliedRecord, type State } from './state.ts';

async function stopTimer(state: State): Promise<void> {
  if (state.pending !== null) await killTimer(state.pending.timerPid, state.pending.id);
}

/**
 * Loads a record's ruleset (removing the other backend's), refreshing the recorded listing; null removes
 * palisade's. A kernel that already holds exactly the record is left alone (a revert tried again reloads nothing).
 */
async function loadRecord(ctx: HostContext, record: AppliedRecord | null, replacing: AppliedRecord | null): Promise<AppliedRecord | null> {
  if (record === null) {
    if (replacing !== null) await backendFor(replacing.backend, ctx.target).remove();
    return null;
  }
  const backend = backendFor(record.backend, ctx.target);
  const before = await backend.listing();
  if (before === null || compareListings(record.backend, record.listing, before).drifted) await backend.load(record.ruleset);
  if (replacing !== null && replacing.backend !== record.backend) await backendFor(replacing.backend, ctx.target).remove();
  return { ...record, listing: await backend.listing() };
}

const describeRecord = (record: AppliedRecord | null): string => (record === null ? 'no palisade ruleset' : `apply ${record.id} (sha256 ${record.hash.slice(0, 12)})`);

/** Writes the state after the kernel changed: a failure says what the kernel holds now. */
async function record(ctx: HostContext, state: State, holds: AppliedRecord | null): Promise<void> {
  try {
    await saveState(ctx.stateDir, state);
  } catch (cause) {
    throw new StateError(`the kernel now holds ${describeRecord(holds)}, but the state directory could not record it: ${(cause as Error).message}`, { cause });
  }
}

/** Returns to state.previous: the kernel first, then the state; throws when there is nothing to return to. */
async function revert(ctx: HostContext, state: State): Promise<AppliedRecord | null> {
  if (state.previous === null) throw new StateError('there is no previous ruleset to roll back to', { unchanged: true });
  const applied = await loadRecord(ctx, state.previous.record, state.applied);
  await record(ctx, { version: state.version, applied, previous: null, pending: null }, applied);
  return applied;
}

/**
 * Keeps a pending apply, unless the kernel no longer holds it (rules flushed or added by hand since): a
 * confirmation vouches for the ruleset that was tested, so it is refused and the timer still reverts.
 */
export async function confirmApply(ctx: HostContext): Promise<AppliedRecord> {
  return withLock(ctx.stateDir, ctx.lockTimeoutMs, async () => {
    const state = await loadState(ctx.stateDir);
    if (state.pending === null || state.applied === null) throw new StateError('no apply is waiting for confirmation', { unchanged: true });
    const drift = await detectDrift(state.applied, state.applied.backend, ctx.target);
    if (drift.drifted) {
      throw new StateError(
        [
          `not confirmed: the kernel no longer holds apply ${state.applied.id}, which is what you would confirm.`,
          ...describeDrift(drift),
          `It stays pending: the timer reverts to ${describeRecord(state.previous?.record ?? null)} at ${state.pending.deadline}; run \`palisade apply\` again to load it whole.`,
        ].join('\n'),
        { unchanged: true },
      );
    }
    /* Recorded first: a state that cannot be written leaves the apply pending with its timer running. */
    await saveState(ctx.stateDir, { ...state, pending: null }).catch((cause: Error) => {
      throw new StateError(`not confirmed: ${cause.message}; the timer still reverts at ${state.pending?.deadline}`, { unchanged: true, cause });
    });
    await stopTimer(state);
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
  return withLock(
    ctx.stateDir,
    ctx.lockTimeoutMs,
    async () => {
      const state = await loadState(ctx.stateDir);
      if (state.pending?.id === id) {
        await revert(ctx, state);
        return 'reverted';
      }
      if (state.applied?.id === id || state.previous?.record?.id === id) return 'confirmed';
      const drift = await detectDrift(state.applied, state.applied?.backend ?? 'nft', ctx.target);
      if (!drift.drifted) return 'in-sync';
      const applied = await loadRecord(ctx, state.applied, state.applied);
      await record(ctx, { ...state, applied }, applied);
      return 'resynced';
    },
    { unlockedIfUnwritable: true },
  );
}

/** `palisade stop`: removes palisade's rules from both backends; rollback can bring them back. */
export async function stop(ctx: HostContext): Promise<AppliedRecord | null> {
  return withLock(ctx.stateDir, ctx.lockTimeoutMs, async () => {
    const state = await loadState(ctx.stateDir);
    for (const name of BACKENDS) await backendFor(name, ctx.target).remove();
    await stopTimer(state);
    const previous = state.applied !== null ? { record: state.applied } : state.previous;
    await record(ctx, { version: state.version, applied: null, previous, pending: null }, null);
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
    await record(ctx, { ...state, applied }, applied);
    return { restored: applied, revertedPending: false };
  });
}
