/** The apply life-cycle commands (DESIGN.md "Commands"): apply, confirm, rollback, status, stop, restore, install-service. */
import type { Command } from 'commander';
import { DEFAULT_STATE_DIR, DEFAULT_UNIT_DIR } from '../defaults.ts';
import { TIMER_COMMAND } from '../self.ts';
import type { ApplyOptions } from './commands/apply.ts';
import type { HostOptions } from '../app/host.ts';
import type { InstallServiceOptions } from './commands/install-service.ts';
import type { RevertAfterOptions } from './commands/revert-after.ts';
import type { StatusOptions } from './commands/status.ts';
import { backendOption, duration, examples, formatOption, hostOptions, sourceOptions } from './options.ts';
import type { Output } from './output.ts';

export function registerApplyCommands(program: Command, output: Output, setExit: (code: number) => void): void {
  examples(
    hostOptions(
      sourceOptions(
        program
          .command('apply')
          .description("compile this host's ruleset, validate it, load it atomically; roll back unless confirmed")
          .requiredOption('-H, --host <name>', 'inventory host this machine is')
          .addOption(backendOption())
          .option('--confirm <duration>', 'revert automatically unless `palisade confirm` runs within this time (30s, 2m)', duration)
          .option('--no-wait', 'with --confirm: return at once instead of waiting for the confirmation')
          .option('-n, --dry-run', "print what would be loaded and what it changes in the kernel's ruleset (nft text lines, as status shows drift); change nothing")
          .addOption(formatOption())
          .option('--force', 'apply even if the ruleset would cut the SSH session this runs in'),
      ),
    ),
    [
      'palisade apply --host web-1 --dry-run',
      'palisade apply --host web-1 --dry-run --format json',
      'palisade apply --host web-1 --confirm 30s   # then, from a new SSH session: palisade confirm',
      'palisade apply --host web-1 --backend iptables',
    ],
  ).action(async (opts: ApplyOptions) => setExit(await (await import('./commands/apply.ts')).applyCommand(opts, output)));

  examples(hostOptions(program.command('confirm').description('keep the ruleset a pending `apply --confirm` loaded')), [
    'palisade confirm',
  ]).action(async (opts: HostOptions) => setExit(await (await import('./commands/confirm.ts')).confirmCommand(opts, output)));

  examples(hostOptions(program.command('rollback').description('load the ruleset applied before the current one')), [
    'palisade rollback',
    'palisade rollback --state-dir /srv/palisade',
  ]).action(async (opts: HostOptions) => setExit(await (await import('./commands/rollback.ts')).rollbackCommand(opts, output)));

  examples(
    hostOptions(
      program
        .command('status')
        .description('what is applied, by which command and when, pending confirmation, drift, dropped packets')
        .option('--exit-code', 'exit 3 on drift, 4 while an apply waits for confirmation (0 otherwise)')
        .addOption(formatOption()),
      false,
    ),
    ['palisade status', 'palisade status --format json | jq .drift', 'palisade status --exit-code || alert'],
  ).action(async (opts: StatusOptions) => setExit(await (await import('./commands/status.ts')).statusCommand(opts, output)));

  examples(hostOptions(program.command('stop').description("remove palisade's table, chains, jumps and sets; other tools' rules stay")), [
    'palisade stop',
  ]).action(async (opts: HostOptions) => setExit(await (await import('./commands/stop.ts')).stopCommand(opts, output)));

  examples(hostOptions(program.command('restore').description('load the last applied ruleset from the state directory (at boot)')), [
    'palisade restore',
    'palisade restore --state-dir /var/lib/palisade',
  ]).action(async (opts: HostOptions) => setExit(await (await import('./commands/restore.ts')).restoreCommand(opts, output)));

  examples(
    program
      .command('install-service')
      .description('write the systemd units palisade-restore.service (the ruleset at boot) and palisade-agent.service, running this palisade')
      .option('--unit-dir <dir>', 'where to write the unit', DEFAULT_UNIT_DIR)
      .option('--state-dir <dir>', `state directory the unit restores from (default: $PALISADE_STATE_DIR or ${DEFAULT_STATE_DIR})`),
    ['palisade install-service && systemctl daemon-reload && systemctl enable palisade-restore.service', 'palisade install-service --unit-dir /tmp/units'],
  ).action(async (opts: InstallServiceOptions) => setExit(await (await import('./commands/install-service.ts')).installServiceCommand(opts, output)));

  hostOptions(program.command(TIMER_COMMAND, { hidden: true }).argument('<deadline>', 'ISO 8601 time').requiredOption('--id <id>', 'the apply to revert'))
    .action(async (deadline: string, opts: RevertAfterOptions) => setExit(await (await import('./commands/revert-after.ts')).revertAfterCommand(deadline, opts)));
}
