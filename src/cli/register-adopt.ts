/** Adoption and reference: `import` of the rules a host runs today, `help TOPIC`, `completion bash|zsh`. */
import type { Command } from 'commander';
import type { ImportOptions } from './commands/import.ts';
import { examples } from './options.ts';
import type { Output } from './output.ts';

export function registerAdoptCommands(program: Command, output: Output, setExit: (code: number) => void): void {
  examples(
    program
      .command('import')
      .description('a Palisade policy from the rules a host runs today (iptables-save, ufw, firewalld); --verify compares both on the same flows')
      .argument('[files...]', 'the files to read (- for standard input); DESIGN form: import TOOL FILE...')
      .option('--from <tool>', 'iptables-save (also ip6tables-save output) | ufw (user.rules, user6.rules or `ufw status verbose`) | firewalld (a zone XML file)')
      .option('-H, --host <name>', 'the host the policy is for: every rule gets on: name:HOST; --verify compiles for it (default: this machine)')
      .option('--verify', 'compile the imported policy and compare its verdicts with the original rules on the same flows; exit 3 on any difference')
      .option('-o, --out <file>', 'write the policy to this file (with --verify, the policy is written only here)')
      .option('--passwd <file>', 'user names for --uid-owner uids (default: /etc/passwd)'),
    [
      'iptables-save | palisade import --from iptables-save - --host web-1 > web-1.yaml',
      'palisade import --from ufw /etc/ufw/user.rules /etc/ufw/user6.rules --out ufw.yaml',
      'ufw status verbose | palisade import --from ufw -',
      'palisade import --from firewalld /etc/firewalld/zones/public.xml --verify',
    ],
  ).action(async (files: string[], opts: ImportOptions) => setExit(await (await import('./commands/import.ts')).importCommand(files, opts, output)));

  program.helpCommand(false);
  examples(
    program
      .command('help')
      .description('print a page of the reference (policy, settings, queries, inventory, fleet, exit-codes, commands...), or a command\'s help')
      .argument('[topic]', 'a topic, or a command name; none: the list of topics'),
    ['palisade help', 'palisade help policy', 'palisade help exit-codes', 'palisade help apply | less'],
  ).action(async (topic: string | undefined) => setExit(await (await import('./commands/help.ts')).helpCommand(topic, program, output)));

  examples(
    program
      .command('completion')
      .description('print the shell completion script')
      .argument('<shell>', 'bash or zsh'),
    ['palisade completion bash > /etc/bash_completion.d/palisade', 'palisade completion zsh > "${fpath[1]}/_palisade"'],
  ).action(async (shell: string) => setExit((await import('./commands/help.ts')).completionCommand(shell, program, output)));
}
