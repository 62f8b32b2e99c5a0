/** Runs the kernel tools (`ip`, `useradd`, `nft`, ...) the lab drives, with their stderr in the error. */
import { OperationError } from '../diagnostics.ts';
import { execTool, type ToolResult } from '../kernel/exec.ts';

export type CommandResult = ToolResult;

export class CommandError extends OperationError {
  override readonly name = 'CommandError';
}

/** Runs a command (in the current network namespace) to its end; never throws for a non-zero exit (see `run`). */
export function exec(command: string, args: readonly string[], input?: string): Promise<CommandResult> {
  return execTool({ netns: null }, command, args, input);
}

/** Runs a command and returns its stdout; throws with the command line and stderr when it fails. */
export async function run(command: string, args: readonly string[], input?: string): Promise<string> {
  const result = await exec(command, args, input);
  if (result.code !== 0) {
    throw new CommandError(`${command} ${args.join(' ')} failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`);
  }
  return result.stdout;
}
