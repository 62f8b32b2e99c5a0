/** The generated reference files (docs/commands.md, man/palisade.1) as the CLI now describes itself. */
import { buildProgram } from '../../src/cli/main.ts';
import { manPage, referenceMarkdown } from '../../src/cli/reference.ts';
import { VERSION } from '../../src/version.ts';
import { readHelpTopics } from '../../scripts/docs.js';

export async function referenceFiles(root: string): Promise<Record<string, string>> {
  const program = buildProgram({ out: () => {}, err: () => {} }, () => {});
  const topics = [...new Set([...Object.keys(readHelpTopics(root)), 'commands'])].sort();
  return { 'docs/commands.md': referenceMarkdown(program), 'man/palisade.1': manPage(program, VERSION, topics) };
}
