import { formatPlan, makePlan } from '../../plan/plan.ts';
import type { ConfigOverrides } from '../../app/config.ts';
import { toJson, type Output } from '../output.ts';
import { loadEarlierWorkspace, loadWorkspace } from '../../app/workspace.ts';
import { containersSummary } from '../../policy/containers.ts';
import { namerOfHosts, withName } from '../../audit/host-names.ts';

export interface PlanOptions extends ConfigOverrides {
  against?: string;
  format: 'text' | 'json';
  verbose?: boolean;
}

export async function planCommand(options: PlanOptions, output: Output): Promise<number> {
  const ws = await loadWorkspace(options);
  const before = options.against === undefined ? null : await loadEarlierWorkspace(options.against, options);
  const plan = makePlan(ws.compiler.compileAll(), before?.compiler.compileAll() ?? null);
  const namer = namerOfHosts([...ws.inventory.hosts, ...(before?.inventory.hosts ?? [])]);
  const text = (): string => formatPlan(plan, options.verbose === true, (address) => withName(address, namer(address)));
  output.out(options.format === 'json' ? toJson({ ...plan, containers: containersSummary(ws.policy) }) : `${text()}\n${containersSummary(ws.policy)}`);
  return 0;
}
