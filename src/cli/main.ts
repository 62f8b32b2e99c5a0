/** The `palisade` command line. Exit codes: 0 success, 1 invalid input or failed apply, 2 usage error. */
import { Command, CommanderError, Option } from 'commander';
import { VERSION } from '../version.ts';
import { InputError, InternalError, OperationError, sanitize, UsageError } from '../diagnostics.ts';
import { checkCommand } from './commands/check.ts';
import { compileCommand, type CompileOptions } from './commands/compile.ts';
import { explainCommand, type ExplainOptions } from './commands/explain.ts';
import { planCommand, type PlanOptions } from './commands/plan.ts';
import type { ConfigOverrides } from '../app/config.ts';
import { examples, sourceOptions } from './options.ts';
import { registerLabCommands } from './register-lab.ts';
import { processOutput, reportDiagnostics, type Output } from './output.ts';
import { registerApplyCommands } from './register-apply.ts';
import { registerFleetCommands } from './register-fleet.ts';
import { registerAuditCommands } from './register-audit.ts';

export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

export function buildProgram(output: Output, setExit: (code: number) => void): Command {
  const program = new Command('palisade')
    .description('Per-host netfilter firewalls for a fleet, compiled from generic rules over an inventory.')
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => output.out(s), writeErr: (s) => output.err(s) })
    .version(VERSION, '-V, --version', 'print the version')
    .option('--debug', 'print the stack trace of an internal error')
    .exitOverride();

  examples(
    sourceOptions(program.command('check').description('validate policy and inventory; every error with file:line:col and rule name')),
    ['palisade check', 'palisade check --policy policy.yaml roles/ --inventory hosts.yaml', "palisade check --inventory 'exec:knife search node \"*:*\" -F json'"],
  ).action(async (opts: ConfigOverrides) => setExit(await checkCommand(opts, output)));

  examples(
    sourceOptions(
      program
        .command('compile')
        .description("print one host's ruleset")
        .requiredOption('-H, --host <name>', 'inventory host to compile for')
        .addOption(new Option('-f, --format <format>', 'output format').choices(['nft', 'iptables', 'json']).default('nft'))
        .option('-o, --out <dir>', 'write files instead (nft: ruleset.nft; iptables: ipset.restore, rules.v4, rules.v6)'),
    ),
    ['palisade compile --host web-1', 'palisade compile --host web-1 --format iptables --out /tmp/web-1', 'palisade compile --host web-1 --format json | jq .sets'],
  ).action(async (opts: CompileOptions) => setExit(await compileCommand(opts, output)));

  examples(
    sourceOptions(
      program
        .command('plan')
        .description('what every host gets (rules, sets, elements), and what changes against an earlier version')
        .option('--against <path>', 'earlier palisade.yaml, or a directory holding one, to compare with')
        .option('-v, --verbose', 'list every added/removed rule and element')
        .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text')),
    ),
    ['palisade plan', 'palisade plan --against ../last-release --verbose', 'palisade plan --format json'],
  ).action(async (opts: PlanOptions) => setExit(await planCommand(opts, output)));

  examples(
    sourceOptions(
      program
        .command('explain')
        .description('whether a flow is allowed, and by which rule, on both ends')
        .argument('<src>', 'source: inventory host name or IP address')
        .argument('<dst>', 'destination: inventory host name or IP address')
        .argument('<port>', 'PORT[/PROTO] (443, 443/tcp, domain/udp) or a protocol without ports (icmp, icmpv6, vrrp, ospf)')
        .option('-u, --user <user>', 'local user owning the socket on the source host (outbound rules are per user)')
        .option('--sport <port>', 'source port of the flow')
        .addOption(new Option('--family <n>', 'address family to use when both ends have both').choices(['4', '6']))
        .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text')),
    ),
    ['palisade explain web-1 mongodb-1 27017', 'palisade explain web-1 mongodb-1 27017/tcp --user www-data', 'palisade explain 192.0.2.7 lb-1 443 --family 4'],
  ).action(async (src: string, dst: string, port: string, opts: ExplainOptions) => setExit(await explainCommand(src, dst, port, opts, output)));

  registerApplyCommands(program, output, setExit);
  registerLabCommands(program, output, setExit);
  registerFleetCommands(program, output, setExit);
  registerAuditCommands(program, output, setExit);
  return program;
}

export async function main(argv: string[], output: Output = processOutput): Promise<number> {
  let code = EXIT_OK;
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
  if (cause instanceof CommanderError) return cause.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  if (cause instanceof UsageError) {
    output.err(`error: ${sanitize(cause.message)}`);
    return EXIT_USAGE;
  }
  if (cause instanceof OperationError) {
    output.err(`error: ${sanitize(cause.message)}`);
    if (cause.unchanged) output.err('nothing was changed');
    return EXIT_INVALID;
  }
  if (cause instanceof InputError) {
    reportDiagnostics(output, cause.diagnostics);
    const errors = cause.diagnostics.filter((d) => d.severity === 'error').length;
    output.err(`${errors} error(s): nothing was changed`);
    return EXIT_INVALID;
  }
  const internal = cause instanceof Error ? cause : new InternalError(String(cause));
  output.err(`internal error: ${sanitize(internal.message)}`);
  output.err('This is a bug in palisade, not in your input. Please report it with the command you ran' + (debug ? ' and the trace below.' : '; add --debug for the trace.'));
  if (debug && internal.stack !== undefined) output.err(sanitize(internal.stack));
  return EXIT_INVALID;
}
