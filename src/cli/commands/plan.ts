import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { formatPlan, makePlan } from '../../plan/plan.ts';
import { CONFIG_FILE, type ConfigOverrides } from '../../app/config.ts';
import { toJson, type Output } from '../output.ts';
import { loadWorkspace } from '../../app/workspace.ts';

export interface PlanOptions extends ConfigOverrides {
  against?: string;
  format: 'text' | 'json';
  verbose?: boolean;
}

/** `--against` names an earlier palisade.yaml, or a directory holding one (e.g. a checkout of the last release). */
async function earlierConfig(path: string): Promise<string> {
  return (await stat(path)).isDirectory() ? join(path, CONFIG_FILE) : path;
}

export async function planCommand(options: PlanOptions, output: Output): Promise<number> {
  const ws = await loadWorkspace(options);
  const before = options.against === undefined ? null : await loadWorkspace({ config: await earlierConfig(options.against), resolve: options.resolve });
  const plan = makePlan(ws.compiler.compileAll(), before?.compiler.compileAll() ?? null);
  output.out(options.format === 'json' ? toJson(plan) : formatPlan(plan, options.verbose === true));
  return 0;
}
