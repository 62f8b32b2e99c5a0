/**
 * One applier at a time per host: an exclusive flock(2) on `lock` in the state directory, held by a `flock`
 * child process for as long as the lock is ours. The kernel drops it when that child dies, and the child
 * dies when our end of its stdin closes, so even a process killed with -9 never leaves a stale lock.
 * The holder's pid and command are written beside it, to say who holds it.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KernelError } from '../kernel/error.ts';
import { ensureStateDir } from './state.ts';

export const LOCK_FILE = 'lock';
const OWNER_FILE = 'lock.owner';

/** The lock is held by another process for longer than the caller would wait; `holder` names it (pid and command). */
export class LockBusyError extends KernelError {
  constructor(
    readonly path: string,
    readonly holder: string,
    timeoutMs: number,
  ) {
    super(`another palisade holds the lock ${path} (${holder}); waited ${timeoutMs} ms (--lock-timeout)`);
  }
}

export interface Lock {
  release(): Promise<void>;
}

/** Waits up to timeoutMs for the lock (0: do not wait); throws a LockBusyError naming the holder on timeout. */
export async function acquireLock(dir: string, timeoutMs: number, command: readonly string[] = process.argv.slice(2)): Promise<Lock> {
  await ensureStateDir(dir);
  const path = join(dir, LOCK_FILE);
  const wait = timeoutMs <= 0 ? ['--nonblock'] : ['--wait', (timeoutMs / 1000).toFixed(3)];
  const child = spawn('flock', ['--exclusive', ...wait, path, 'sh', '-c', 'echo locked && exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const acquired = await new Promise<boolean>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('locked')) resolve(true);
    });
    child.on('error', (cause) => reject(new KernelError(`cannot run flock to lock ${path}: ${cause.message}`)));
    child.on('close', () => resolve(false));
  });
  if (!acquired) {
    const owner = await readFile(join(dir, OWNER_FILE), 'utf8').catch(() => 'unknown');
    throw new LockBusyError(path, owner.trim(), timeoutMs);
  }
  await writeFile(join(dir, OWNER_FILE), `pid ${process.pid}: palisade ${command.join(' ')}\n`);
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  child.stdout.resume();
  return {
    release: async () => {
      child.stdin.end();
      await closed;
    },
  };
}

/** Runs fn holding the lock, releasing it however fn ends. */
export async function withLock<T>(dir: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(dir, timeoutMs);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
