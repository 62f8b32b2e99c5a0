/** Waiting for an `apply --confirm` to be settled, by `palisade confirm` or by the revert timer. */
import { setTimeout as sleep } from 'node:timers/promises';
import { loadState, type Pending } from '../apply/state.ts';

/** How long after the deadline the waiting applier trusts the timer before saying it did not act. */
const TIMER_GRACE_MS = 30_000;
const POLL_MS = 200;

export type Confirmation =
  | { outcome: 'kept' }
  /** Reverted to this hash, or to no palisade ruleset (null). */
  | { outcome: 'reverted'; to: string | null }
  /** Neither confirmed nor reverted well after the deadline: the timer did not act. */
  | { outcome: 'timer-silent' };

/** Polls the state directory until apply `pending.id` is kept or reverted, or the timer is overdue. */
export async function awaitConfirmation(stateDir: string, pending: Pending): Promise<Confirmation> {
  const deadline = Date.parse(pending.deadline);
  for (;;) {
    await sleep(POLL_MS);
    const state = await loadState(stateDir);
    if (state.pending?.id === pending.id) {
      if (Date.now() < deadline + TIMER_GRACE_MS) continue;
      return { outcome: 'timer-silent' };
    }
    if (state.applied?.id === pending.id) return { outcome: 'kept' };
    return { outcome: 'reverted', to: state.applied?.hash ?? null };
  }
}
