/** Options and help text shared by the commands that read a policy and an inventory. */
import type { Command } from 'commander';

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
