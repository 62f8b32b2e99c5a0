/**
 * One applier at a time per host, in process (no helper process): the lock is a symlink `lock` in the state
 * directory whose target names its holder (`pid:start time:nonce`). symlink(2) creates it atomically or fails
 * when it exists, and a short link needs no data block, so locking works on a full disk too. The state
 * directory is root's (0700): no other user can create, squat or remove the lock.
 *
 * Node has no flock(2); a lock file instead needs stale-lock recovery: a holder killed with -9 leaves its
 * link behind. A contender finds that pid gone (or reused: /proc says another start time) and removes the
 * link, but only under a marker `lock.stale.<hash of that holder>` it creates the same way: two contenders
 * never both remove one stale lock (the second one would remove the first one's fresh lock), and a marker
 * whose creator died is recovered the same way, one level up. The holder's pid and command are written
 * beside the lock, to say who holds it.
 */
import { randomBytes } from 'node:crypto';
import { readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { readFile, readlink, rmdir, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { removeStaleTemporaries } from '../atomic-file.ts';
import { sha256 } from '../hash.ts';
import { ensureStateDir, STATE_DIR_HINT, StateError, stateDirReason } from './state.ts';

/**
 * A symlink naming its holder. Not `lock`: palisade 0.1 flock()ed a regular file of that name and never
 * removed it, so a state directory upgraded in place still holds one.
 */
export const LOCK_FILE = 'lock.holder';
const OWNER_FILE = 'lock.owner';
const POLL_MS = 10;
/**
 * Times the directory is created: the first time it is missing (the lock is tried first, as the directory mostly
 * exists), then again after holders removed it (release with removeDirectory).
 */
const RECREATE_TRIES = 4;
/** Markers of dead recoverers recovered in turn: beyond this, something keeps killing palisade mid-recovery. */
const MAX_RECOVERY_DEPTH = 4;
/** Errors that mean the state directory cannot hold a lock at all (read-only, or no inode left). */
const UNWRITABLE = new Set(['EROFS', 'ENOSPC', 'EDQUOT']);

/** The lock is held by another process for longer than the caller would wait; `holder` names it (pid and command). */
export class LockBusyError extends StateError {
  constructor(
    readonly path: string,
    readonly holder: string,
    timeoutMs: number,
  ) {
    super(`another palisade holds the lock ${path} (${holder}); waited ${timeoutMs} ms (--lock-timeout)`, { unchanged: true });
  }
}

export interface Lock {
  /**
   * `removeDirectory`: also remove the lock's directory when nothing else is in it (a lab's lock once the lab is
   * gone); a contender that finds it gone creates it again.
   */
  release(options?: { removeDirectory?: boolean }): Promise<void>;
}

export interface LockOptions {
  /** What the holder is doing, for the message another palisade prints while it waits. */
  command?: readonly string[];
  /**
   * When the state directory cannot hold a lock (read-only, full): run unlocked instead of failing. Only the
   * confirmation timer does: no other palisade can take the lock there either, and the revert must happen.
   */
  unlockedIfUnwritable?: boolean;
}

/** Field 22 of /proc/PID/stat: the start time, which tells a reused pid from its first owner. */
async function startTime(pid: number): Promise<string | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  return stat === null ? null : (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null);
}

/** This process's start time, read once: it never changes. */
let ownStart: Promise<string | null> | undefined;

async function identity(): Promise<string> {
  ownStart ??= startTime(process.pid);
  return `${process.pid}:${(await ownStart) ?? '?'}:${randomBytes(8).toString('hex')}`;
}

/** Whether the process a lock or marker names still runs. */
async function alive(holder: string): Promise<boolean> {
  const [pid, start] = holder.split(':');
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 0) return false;
  return (await startTime(n)) === start;
}

/** The holder a lock or marker names; null when it is gone. Anything but a symlink there is refused. */
async function readLink(path: string): Promise<string | null> {
  try {
    return await readlink(path);
  } catch (cause) {
    if (code(cause) === 'ENOENT') return null;
    if (code(cause) === 'EINVAL') throw new StateError(`${path} is not a palisade lock (not a symlink): remove it by hand`, { unchanged: true });
    throw cause;
  }
}
const code = (cause: unknown): string | undefined => (cause as NodeJS.ErrnoException).code;

/** Whom the link names now; null when it cannot be read. */
function linkTarget(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

/** Removes `path` if it still names the dead `holder`, under a marker only one contender can create. */
async function removeStale(dir: string, path: string, holder: string, me: string, depth: number): Promise<void> {
  const marker = join(dir, `${LOCK_FILE}.stale.${sha256(`${path}\0${holder}`).slice(0, 16)}`);
  try {
    await symlink(me, marker);
  } catch (cause) {
    if (code(cause) !== 'EEXIST') throw cause;
    const recoverer = await readLink(marker);
    if (recoverer === null || (await alive(recoverer))) return;
    if (depth >= MAX_RECOVERY_DEPTH) throw new StateError(`cannot recover the stale lock ${path}: remove ${marker} and ${path} by hand`, { unchanged: true });
    await removeStale(dir, marker, recoverer, me, depth + 1);
    return;
  }
  try {
    if ((await readLink(path)) === holder) await unlink(path).catch(() => undefined);
  } finally {
    await unlink(marker).catch(() => undefined);
  }
}

async function describeHolder(dir: string, holder: string): Promise<string> {
  const pid = holder.split(':')[0] ?? '?';
  const owner = await readFile(join(dir, OWNER_FILE), 'utf8').catch(() => '');
  return owner.startsWith(`pid ${pid}:`) ? owner.trim() : `pid ${pid}`;
}

const noLock: Lock = { release: async () => undefined };

/** Waits up to timeoutMs for the lock (0: do not wait); throws a LockBusyError naming the holder on timeout. */
export async function acquireLock(dir: string, timeoutMs: number, options: LockOptions = {}): Promise<Lock> {
  const path = join(dir, LOCK_FILE);
  const me = await identity();
  const end = Date.now() + Math.max(0, timeoutMs);
  let recreate = RECREATE_TRIES;
  try {
    for (;;) {
      try {
        /* Synchronous, as releasing is: a symlink in the local state directory takes microseconds (see state.ts's fileIdentity). */
        symlinkSync(me, path);
        break;
      } catch (cause) {
        if (code(cause) === 'ENOENT' && recreate-- > 0) {
          await ensureStateDir(dir);
          continue;
        }
        if (code(cause) !== 'EEXIST') throw cause;
      }
      const holder = await readLink(path);
      if (holder === null) continue;
      if (!(await alive(holder))) {
        await removeStale(dir, path, holder, me, 0);
        continue;
      }
      if (Date.now() >= end) {
        throw new LockBusyError(path, await describeHolder(dir, holder), timeoutMs);
      }
      await sleep(POLL_MS);
    }
  } catch (cause) {
    if (cause instanceof StateError) throw cause;
    if (options.unlockedIfUnwritable === true && UNWRITABLE.has(code(cause) ?? '')) return noLock;
    throw new StateError(`cannot take the lock in the state directory ${dir}: ${stateDirReason(dir, cause)}; ${STATE_DIR_HINT}`, { unchanged: true, cause });
  }
  /* A holder killed while it replaced a file left its temporary file: nobody else writes here now. */
  await removeStaleTemporaries(dir);
  /*
   * Best effort: only says who holds the lock; a full or read-only disk must not fail the operation. Written while
   * the holder works, and done before the lock is released (a next holder's own write then comes after it).
   */
  const owner = writeFile(join(dir, OWNER_FILE), `pid ${process.pid}: palisade ${(options.command ?? process.argv.slice(2)).join(' ')}\n`).catch(() => undefined);
  return {
    release: async (options = {}) => {
      await owner;
      if (linkTarget(path) !== me) return;
      if (options.removeDirectory === true) await unlink(join(dir, OWNER_FILE)).catch(() => undefined);
      try {
        unlinkSync(path);
      } catch {
        /* Gone already: released. */
      }
      /* Fails (and leaves it) when another palisade took the lock meanwhile, or left a stale-lock marker. */
      if (options.removeDirectory === true) await rmdir(dir).catch(() => undefined);
    },
  };
}

/** Runs fn holding the lock, releasing it however fn ends. */
export async function withLock<T>(dir: string, timeoutMs: number, fn: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const lock = await acquireLock(dir, timeoutMs, options);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
