/** `palisade impact`: the observed flows a (new) policy would cut; exit EXIT.attention when any. */
import { enforcedCompiler } from '../../audit/enforced.ts';
import { readFlowFiles } from '../../audit/flow.ts';
import { analyseImpact, formatImpact } from '../../audit/impact.ts';
import type { ConfigOverrides } from '../../app/config.ts';
import { toJson, type Output } from '../output.ts';
import { loadWorkspace, resolverFor } from '../../app/workspace.ts';
import { EXIT } from '../../exit-codes.ts';

export interface ImpactOptions extends ConfigOverrides {
  flows: string[];
  format: 'text' | 'json';
}

export async function impactCommand(options: ImpactOptions, output: Output): Promise<number> {
  const flows = await readFlowFiles(options.flows);
  const ws = await loadWorkspace(options);
  const compiler = await enforcedCompiler(ws.policy, ws.inventory, resolverFor(ws.config));
  const report = analyseImpact(compiler, ws.inventory.hosts, flows);
  if (options.format === 'json') {
    const cut = report.cut.map(({ flow, explanation }) => ({ flow, sides: explanation.sides.filter((s) => !s.accepted) }));
    output.out(toJson({ clean: report.cut.length === 0, checked: report.checked, groups: report.groups, cut, skipped: report.skipped }));
  } else output.out(formatImpact(report));
  return report.cut.length === 0 ? EXIT.ok : EXIT.attention;
}
