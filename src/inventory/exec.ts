/** Runs an `exec:` inventory command: stdout collected (capped), stderr kept, killed with its process group on timeout. */
import { spawn } from 'node:child_process';

export interface CommandResult {
  stdout: string;
  /** The last lines of stderr. */
  stderrTail: string;
}

export class CommandFailure extends Error {}

const STDOUT_CAP = 64 * 1024 * 1024;
const STDERR_KEEP = 64 * 1024;
const STDERR_LINES = 10;

function tail(text: string): string {
  return text.trimEnd().split('\n').slice(-STDERR_LINES).join('\n');
}

/** Runs `command` with /bin/sh -c in `cwd`; rejects with a CommandFailure saying why it produced no inventory. */
export function runCommand(command: string, cwd: string, timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = '';
    let failure: string | null = null;
    const stop = (why: string) => {
      failure ??= why;
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }
    };
    const timer = setTimeout(() => stop(`exec inventory timed out after ${timeoutMs / 1000} s`), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > STDOUT_CAP) stop(`exec inventory printed more than ${STDOUT_CAP / 1024 / 1024} MiB`);
      else stdout.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEEP);
    });
    child.on('error', (cause) => {
      clearTimeout(timer);
      reject(new CommandFailure(`cannot run exec inventory in ${cwd}: ${cause.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stderrTail = tail(stderr);
      const detail = stderrTail === '' ? '' : `:\n${stderrTail}`;
      if (failure !== null) reject(new CommandFailure(failure));
      else if (code !== 0) reject(new CommandFailure(`exec inventory failed: ${signal === null ? `exit code ${code}` : `killed by ${signal}`}${detail}`));
      else resolve({ stdout: Buffer.concat(stdout).toString('utf8'), stderrTail });
    });
  });
}
