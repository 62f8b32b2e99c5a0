/** Runs the kernel tools (`ip`, `useradd`, `nft`, ...) the lab drives, with their stderr in the error. */
import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class CommandError extends Error {
  override readonly name = 'CommandError';
}

/** Runs a command to its end; never throws for a non-zero exit (see `run` for that). */
export function exec(command: string, args: readonly string[], input?: string): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    /* A tool that exits without reading its input closes the pipe: its exit code says why. */
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

/** Runs a command and returns its stdout; throws with the command line and stderr when it fails. */
export async function run(command: string, args: readonly string[], input?: string): Promise<string> {
  const result = await exec(command, args, input);
  if (result.code !== 0) {
    throw new CommandError(`${command} ${args.join(' ')} failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`);
  }
  return result.stdout;
}
