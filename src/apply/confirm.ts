/**
 * The confirmation timer: a detached process (own session, output to a log in the state directory) that
 * sleeps until the deadline and then asks the applier to revert unless the apply was confirmed. It survives
 * the applying process, even a kill -9, and an SSH session that drops.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Target } from '../kernel/exec.ts';
import { selfCommand } from '../self.ts';
import { ensureStateDir } from './state.ts';

export const TIMER_COMMAND = '__revert-after';
export const TIMER_LOG = 'confirm-timer.log';

/** `30s`, `2m`, `1h`, `500ms` or bare seconds → milliseconds; null when malformed or not positive. */
export function parseDuration(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (match === null) return null;
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  const ms = Math.round(Number(match[1]) * factor);
  return ms > 0 ? ms : null;
}

/** The timer's argv after `palisade`. */
export function timerArgs(id: string, deadline: Date, stateDir: string, target: Target): string[] {
  return [TIMER_COMMAND, deadline.toISOString(), '--id', id, '--state-dir', stateDir, ...(target.netns === null ? [] : ['--netns', target.netns])];
}

/** Starts the detached timer and returns its pid. */
export async function spawnTimer(id: string, deadline: Date, stateDir: string, target: Target): Promise<number> {
  await ensureStateDir(stateDir);
  const log = openSync(join(stateDir, TIMER_LOG), 'a', 0o600);
  try {
    const [command, ...args] = selfCommand();
    const child = spawn(command, [...args, ...timerArgs(id, deadline, stateDir, target)], { detached: true, stdio: ['ignore', log, log] });
    if (child.pid === undefined) throw new Error('the confirmation timer did not start');
    child.unref();
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** Stops the timer of apply `id` if that pid still is it (a recycled pid is left alone). */
export async function killTimer(pid: number | null, id: string): Promise<void> {
  if (pid === null) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes(TIMER_COMMAND) || !cmdline.includes(id)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    /* It exited between the check and the kill. */
  }
}

