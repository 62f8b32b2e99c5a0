/** `palisade help [TOPIC|COMMAND]` and `palisade completion bash|zsh`. */
import type { Command } from 'commander';
import { UsageError } from '../../diagnostics.ts';
import { didYouMean } from '../../suggest.ts';
import { helpTopics } from '../help.ts';
import { bashCompletion, zshCompletion } from '../reference.ts';
import type { Output } from '../output.ts';

/** Topics under a second name: what people type for them. */
const ALIASES: Record<string, string> = { import: 'adoption', query: 'queries', exit: 'exit-codes', codes: 'exit-codes', reference: 'commands', hosts: 'inventory' };

export async function helpCommand(topic: string | undefined, program: Command, output: Output): Promise<number> {
  const topics = await helpTopics();
  const names = Object.keys(topics).sort();
  if (topic === undefined) {
    output.out(`palisade help TOPIC prints a page of the reference; palisade COMMAND --help a command's options.\n\nTopics: ${names.join(', ')}\n`);
    return 0;
  }
  const key = topic.toLowerCase();
  const page = topics[key] ?? topics[ALIASES[key] ?? ''];
  if (page !== undefined) {
    output.out(page);
    return 0;
  }
  const command = program.commands.find((c) => c.name() === key || c.aliases().includes(key));
  if (command !== undefined) {
    output.out(command.helpInformation());
    return 0;
  }
  throw new UsageError(`no help topic or command "${topic}"${didYouMean(key, [...names, ...Object.keys(ALIASES), ...program.commands.map((c) => c.name())])}; topics: ${names.join(', ')}`);
}

export function completionCommand(shell: string, program: Command, output: Output): number {
  if (shell === 'bash') output.out(bashCompletion(program));
  else if (shell === 'zsh') output.out(zshCompletion(program));
  else throw new UsageError(`completion for "${shell}": bash or zsh`);
  return 0;
}
