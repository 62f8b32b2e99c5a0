import { formatPlan, makePlan } from '../../plan/plan.ts';
import type { ConfigOverrides } from '../../app/config.ts';
import { toJson, type Output } from '../output.ts';
import { loadEarlierWorkspace, loadWorkspace, type Workspace } from '../../app/workspace.ts';
import type { Ruleset } from '../../compile/ir.ts';
import { progress } from '../terminal.ts';
import { containersSummary } from '../../policy/containers.ts';
import { namerOfHosts } from '../../audit/host-names.ts';

export interface PlanOptions extends ConfigOverrides {
  against?: string;
  format: 'text' | 'json';
  verbose?: boolean;
}

/** Every host's ruleset, with a progress line on a terminal. */
function compileEvery(ws: Workspace, label: string): Ruleset[] {
  const hosts = ws.inventory.hosts;
  const bar = progress(label, hosts.length);
  const rulesets = hosts.map((h, i) => {
    bar.tick(i + 1);
    return ws.compiler.compile(h.name);
  });
  bar.end();
  return rulesets;
}

export async function planCommand(options: PlanOptions, output: Output): Promise<number> {
  const ws = await loadWorkspace(options);
  const before = options.against === undefined ? null : await loadEarlierWorkspace(options.against, options);
  const plan = makePlan(compileEvery(ws, 'compiling'), before === null ? null : compileEvery(before, 'compiling the earlier version'));
  const namer = namerOfHosts([...ws.inventory.hosts, ...(before?.inventory.hosts ?? [])]);
  const text = (): string => formatPlan(plan, options.verbose === true, namer);
  output.out(options.format === 'json' ? toJson({ ...plan, containers: containersSummary(ws.policy) }) : `${text()}\n${containersSummary(ws.policy)}`);
  return 0;
}
