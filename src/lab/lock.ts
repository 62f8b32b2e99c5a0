/**
 * Locks of the lab, under /run/palisade-lab/lock/: one per lab, held by every command that reads and
 * changes a lab's record (so two runs never tear it, nor build the same lab at once), and one for the
 * local users that labs share (so one lab's `down` never removes a user another lab still uses).
 */
import { join } from 'node:path';
import { acquireLock, LockBusyError, type Lock } from '../apply/lock.ts';
import { LabError, STATE_DIR, checkLabName } from './state.ts';

const LOCK_DIR = join(STATE_DIR, 'lock');
/** Creating or removing a lab's users takes a few `useradd`/`userdel` runs: another lab waits that long. */
const USERS_WAIT_MS = 60_000;

async function locked<T>(dir: string, waitMs: number, busy: (holder: string) => string, fn: () => Promise<T>, removeDirectory = false): Promise<T> {
  let lock: Lock;
  try {
    lock = await acquireLock(dir, waitMs);
  } catch (cause) {
    if (cause instanceof LockBusyError) throw new LabError(busy(cause.holder), { unchanged: true });
    throw cause;
  }
  try {
    return await fn();
  } finally {
    await lock.release({ removeDirectory });
  }
}

/**
 * Runs fn holding the lab's lock; a lab another palisade is working on is refused at once, naming it.
 * `removed`: fn takes the lab down, so its lock directory goes too.
 */
export function withLabLock<T>(lab: string, fn: () => Promise<T>, options: { removed?: boolean } = {}): Promise<T> {
  return locked(join(LOCK_DIR, `lab-${checkLabName(lab)}`), 0, (holder) => `lab ${lab} is in use by another palisade (${holder}): try again when it has finished`, fn, options.removed === true);
}

/** Runs fn holding the lock on the users labs share, waiting for another lab's user changes to finish. */
export function withUsersLock<T>(fn: () => Promise<T>): Promise<T> {
  return locked(join(LOCK_DIR, 'users'), USERS_WAIT_MS, (holder) => `the lab users are being changed by another palisade (${holder}) for over ${USERS_WAIT_MS / 1000} s`, fn);
}
