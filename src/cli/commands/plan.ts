import { formatPlan, makePlan } from '../../plan/plan.ts';
import type { ConfigOverrides } from '../../app/config.ts';
import { toJson, type Output } from '../output.ts';
import { loadEarlierWorkspace, loadWorkspace } from '../../app/workspace.ts';
import { containersSummary } from '../../policy/containers.ts';

export interface PlanOptions extends ConfigOverrides {
  against?: string;
  format: 'text' | 'json';
  verbose?: boolean;
}

export async function planCommand(options: PlanOptions, output: Output): Promise<number> {
  const ws = await loadWorkspace(options);
  const before = options.against === undefined ? null : await loadEarlierWorkspace(options.against, options);
  const plan = makePlan(ws.compiler.compileAll(), before?.compiler.compileAll() ?? null);
  output.out(options.format === 'json' ? toJson({ ...plan, containers: containersSummary(ws.policy) }) : `${formatPlan(plan, options.verbose === true)}\n${containersSummary(ws.policy)}`);
  return 0;
}
