/** `palisade suggest`: policy rules for the observed flows the policy cuts. */
import { writeUserFile } from '../../app/files.ts';
import { enforcedCompiler } from '../../audit/enforced.ts';
import { readFlowFiles } from '../../audit/flow.ts';
import { formatSuggestions, suggestRules } from '../../audit/suggest.ts';
import type { ConfigOverrides } from '../../app/config.ts';
import type { Output } from '../output.ts';
import { loadWorkspace, resolverFor } from '../../app/workspace.ts';

export interface SuggestOptions extends ConfigOverrides {
  flows: string[];
  out?: string;
}

export async function suggestCommand(options: SuggestOptions, output: Output): Promise<number> {
  const flows = await readFlowFiles(options.flows);
  const ws = await loadWorkspace(options);
  const compiler = await enforcedCompiler(ws.policy, ws.inventory, resolverFor(ws.config));
  const rules = suggestRules(compiler, ws.inventory.hosts, ws.policy, flows);
  const text = formatSuggestions(rules, options.flows);
  if (options.out === undefined) output.out(text);
  else {
    await writeUserFile(options.out, text);
    output.err(`${rules.length} rule(s) written to ${options.out}`);
  }
  return 0;
}
