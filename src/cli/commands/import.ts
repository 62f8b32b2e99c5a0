import { importRules, importTool } from '../../app/import.ts';
import { writeUserFile } from '../../app/files.ts';
import { UsageError } from '../../diagnostics.ts';
import { EXIT } from '../../exit-codes.ts';
import { formatVerifyReport } from '../../import/verify.ts';
import type { Output } from '../output.ts';
import { progressSink } from '../terminal.ts';

export interface ImportOptions {
  from?: string;
  host?: string;
  verify?: boolean;
  out?: string;
  passwd?: string;
}

/** `palisade import --from TOOL FILE...` (or `palisade import TOOL FILE...`, DESIGN.md's form). */
export async function importCommand(args: string[], options: ImportOptions, output: Output): Promise<number> {
  let tool = options.from;
  let files = args;
  if (tool === undefined) {
    const [first, ...rest] = args;
    if (first === undefined) throw new UsageError('say what to import from: --from iptables-save|ufw|firewalld FILE...');
    tool = importTool(first);
    files = rest;
  }
  const bar = progressSink('probing both rulesets');
  const result = await importRules({
    tool,
    files,
    verify: options.verify === true,
    onProgress: bar.tick,
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.passwd === undefined ? {} : { passwd: options.passwd }),
  }).finally(() => bar.end());
  const { entries, notes } = result.imported;
  const raw = entries.filter((e) => e.kind === 'raw').length;
  const lost = notes.filter((n) => !n.covered).length;
  output.err(`${entries.length - raw} rule(s) imported, ${raw} kept as raw iptables rules, ${lost} line(s) not imported (listed at the top of the policy)`);
  if (result.note !== null) output.err(`note: --verify: ${result.note}`);
  if (options.out !== undefined) await writeUserFile(options.out, result.text);
  if (result.report === null) {
    if (options.out === undefined) output.out(result.text);
    return EXIT.ok;
  }
  output.out(formatVerifyReport(result.report, result.imported.tool));
  return result.report.differences.length > 0 ? EXIT.attention : EXIT.ok;
}
