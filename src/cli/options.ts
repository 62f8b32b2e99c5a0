/**
 * Options, argument parsers and help text shared by the commands. Like the register-*.ts files, it imports only
 * light modules: a command's implementation loads when the command runs (`palisade --help` loads none).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { UsageError } from '../diagnostics.ts';
import { DEFAULT_STATE_DIR } from '../defaults.ts';
import { parseDuration } from '../duration.ts';
import { BACKENDS, type BackendName } from '../kernel/backend.ts';

const DEFAULT_LOCK_TIMEOUT = '30s';

export function duration(text: string): number {
  const ms = parseDuration(text);
  if (ms === null) throw new InvalidArgumentError('expected a duration from 1ms to 24h, such as 30s, 2m, 500ms or a number of seconds');
  return ms;
}

export function positiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive whole number');
  return n;
}

export function nonNegative(text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number, 0 or more');
  return n;
}

/** --state-dir and the hidden --netns; with lock, also --lock-timeout: the commands that act on this host's kernel. */
export function hostOptions(command: Command, lock = true): Command {
  command
    .option('--state-dir <dir>', `where the applied state lives (default: $PALISADE_STATE_DIR or ${DEFAULT_STATE_DIR})`)
    .addOption(new Option('--netns <name>', 'run every kernel command in this network namespace').hideHelp());
  if (lock) {
    command.addOption(
      new Option('--lock-timeout <duration>', 'how long to wait for another palisade on this host').argParser(duration).default(duration(DEFAULT_LOCK_TIMEOUT), DEFAULT_LOCK_TIMEOUT),
    );
  }
  return command;
}

export function sourceOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'palisade.yaml to read (default: ./palisade.yaml)')
    .option('-p, --policy <files...>', 'policy files or directories (YAML, or AFW Chef role JSON)')
    .option('-i, --inventory <source>', 'inventory: FILE.yaml|json, exec:COMMAND, etcd://HOST:PORT/PREFIX')
    .option('--dns <file>', 'static name table ({hosts: {name: [addresses]}}), consulted before DNS')
    .option('--no-resolve', 'do not ask the system resolver: names outside the static table match nothing');
}

export function examples(command: Command, lines: string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);
}

/** -f/--format: one of formats, the first by default. */
export function formatOption(formats: readonly string[] = ['text', 'json']): Option {
  return new Option('-f, --format <format>', 'output format').choices(formats).default(formats[0]);
}

/** -b/--backend: nft by default; without a default (null) where the command falls back to something else. */
export function backendOption(fallback: BackendName | null = 'nft'): Option {
  const option = new Option('-b, --backend <backend>', 'kernel backend').choices(BACKENDS);
  return fallback === null ? option : option.default(fallback);
}

/** A flag that would put a secret on the command line: accepted only to be refused by refuseSecretFlags, never shown in help. */
export function refusedSecret(flag: string): Option {
  return new Option(`${flag} <password>`).hideHelp();
}

/** Refuses `--x-password VALUE` (seen by every user through `ps`, kept in shell history), naming the flag to use instead; never echoes the value. */
export function refuseSecretFlags(options: object, flags: Record<string, string>): void {
  for (const [key, flag] of Object.entries(flags)) {
    if ((options as Record<string, unknown>)[key] === undefined) continue;
    const file = `${flag}-file`;
    throw new UsageError(`${flag} is refused: a password on the command line is visible to every user in ps and stays in the shell history. Use ${file} FILE (read, or created with a generated password and mode 0600), ${file} - to read it from standard input, or the environment variable`);
  }
}
