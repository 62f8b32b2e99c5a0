/** The `palisade` command line. Exit codes: 0 success, 1 invalid input or failed apply, 2 usage error. */
import { CommanderError, type Command } from 'commander';
import { LazyCommand } from './command-table.ts';
import { VERSION } from '../version.ts';
import { EXIT } from '../exit-codes.ts';
import { InputError, InternalError, OperationError, sanitize, UsageError } from '../diagnostics.ts';
import { registerLabCommands } from './register-lab.ts';
import { processOutput, reportDiagnostics, type Output } from './output.ts';
import { registerApplyCommands } from './register-apply.ts';
import { registerFleetCommands } from './register-fleet.ts';
import { registerAuditCommands } from './register-audit.ts';
import { registerCompileCommands } from './register-compile.ts';
import { registerAdoptCommands } from './register-adopt.ts';
import { registerConsoleCommands } from './register-console.ts';


export function buildProgram(output: Output, setExit: (code: number) => void): Command {
  const program = new LazyCommand('palisade')
    .description('Per-host netfilter firewalls for a fleet, compiled from generic rules over an inventory.')
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => output.out(s), writeErr: (s) => output.err(s) })
    .version(VERSION, '-V, --version', 'print the version')
    .option('--debug', 'print the stack trace of an internal error')
    .option('--no-color', 'no colour in the output (also with NO_COLOR set, or when not on a terminal)')
    .exitOverride();

  registerCompileCommands(program, output, setExit);
  registerApplyCommands(program, output, setExit);
  registerLabCommands(program, output, setExit);
  registerFleetCommands(program, output, setExit);
  registerAuditCommands(program, output, setExit);
  registerAdoptCommands(program, output, setExit);
  registerConsoleCommands(program, output, setExit);
  return program;
}

export async function main(argv: string[], output: Output = processOutput): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(output, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv);
    return code;
  } catch (cause) {
    return reportFailure(cause, output, argv.includes('--debug'));
  }
}

/** The one place a failure becomes a message and an exit code; every command ends here. */
export function reportFailure(cause: unknown, output: Output, debug: boolean): number {
  if (cause instanceof CommanderError) return cause.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (cause instanceof UsageError) {
    output.err(`error: ${sanitize(cause.message)}`);
    return EXIT.usage;
  }
  if (cause instanceof OperationError) {
    output.err(`error: ${sanitize(cause.message)}`);
    if (cause.unchanged) output.err('nothing was changed');
    return EXIT.failed;
  }
  if (cause instanceof InputError) {
    reportDiagnostics(output, cause.diagnostics);
    const errors = cause.diagnostics.filter((d) => d.severity === 'error').length;
    output.err(`${errors} error(s): nothing was changed`);
    return EXIT.failed;
  }
  const internal = cause instanceof Error ? cause : new InternalError(String(cause));
  output.err(`internal error: ${sanitize(internal.message)}`);
  output.err('This is a bug in palisade, not in your input. Please report it with the command you ran' + (debug ? ' and the trace below.' : '; add --debug for the trace.'));
  if (debug && internal.stack !== undefined) output.err(sanitize(internal.stack));
  return EXIT.failed;
}
