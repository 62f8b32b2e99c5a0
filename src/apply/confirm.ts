/**
 * The confirmation timer: a detached process (own session) that sleeps until the deadline and then asks the
 * applier to revert unless the apply was confirmed. It survives the applying process, even a kill -9, and an
 * SSH session that drops. It logs to a file in the state directory and, when that cannot be written (full,
 * read-only), to the system log (the journal): a failing state directory never stops it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Target } from '../kernel/exec.ts';
import { selfCommand, TIMER_COMMAND } from '../self.ts';
import { StateError } from './state.ts';

export const TIMER_LOG = 'confirm-timer.log';

/**
 * The timer's log: a line appended to the state directory's log; if that fails, the line and the reason go to
 * the system log through logger(1) and to stderr. Never throws.
 */
export function timerLogger(stateDir: string, prefix: string): (text: string) => void {
  return (text) => {
    const line = `${new Date().toISOString()} ${prefix}: ${text}`;
    try {
      appendFileSync(join(stateDir, TIMER_LOG), `${line}\n`, { mode: 0o600 });
    } catch (cause) {
      const fallback = `${line} (cannot write ${join(stateDir, TIMER_LOG)}: ${(cause as Error).message})`;
      spawnSync('logger', ['--tag', 'palisade', '--priority', 'user.err', '--', fallback], { stdio: 'ignore', timeout: 5000 });
      try {
        process.stderr.write(`${fallback}\n`);
      } catch {
        /* No stderr either: the system log has it. */
      }
    }
  };
}

/** The timer's argv after `palisade`. */
export function timerArgs(id: string, deadline: Date, stateDir: string, target: Target): string[] {
  return [TIMER_COMMAND, deadline.toISOString(), '--id', id, '--state-dir', stateDir, ...(target.netns === null ? [] : ['--netns', target.netns])];
}

/**
 * Starts the detached timer and returns its pid; throws a StateError (nothing changed yet) when it cannot start.
 * It keeps no file open in the state directory (it logs line by line), so that directory can still be
 * remounted, rotated or unmounted while it waits.
 */
export async function spawnTimer(id: string, deadline: Date, stateDir: string, target: Target): Promise<number> {
  const [command, ...args] = selfCommand();
  const child = spawn(command, [...args, ...timerArgs(id, deadline, stateDir, target)], { detached: true, stdio: 'ignore' });
  const started = await new Promise<Error | null>((resolve) => {
    child.once('spawn', () => resolve(null));
    child.once('error', resolve);
  });
  if (started !== null || child.pid === undefined) throw new StateError(`the confirmation timer did not start: ${started?.message ?? 'no pid'}`, { unchanged: true });
  child.unref();
  return child.pid;
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

