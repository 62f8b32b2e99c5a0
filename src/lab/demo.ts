/**
 * `lab demo`: the whole lab in one command (up, apply, probe, report, down, and down even on failure). Without
 * root it shows what would be applied instead (the `plan` output), so it is useful anywhere.
 */
import { loadWorkspace } from '../app/workspace.ts';
import type { ConfigOverrides } from '../app/config.ts';
import type { BackendName } from '../kernel/backend.ts';
import { formatPlan, makePlan } from '../plan/plan.ts';
import { labApply } from './apply.ts';
import { labProbe, type ProbeReport } from './probe.ts';
import { labDown, labUp, type Log } from './topology.ts';

export const NEEDS_ROOT = 'the lab needs root to create network namespaces';

export type DemoOutcome = { kind: 'plan'; text: string } | { kind: 'probed'; report: ProbeReport };

export async function labDemo(overrides: ConfigOverrides, lab: string, backend: BackendName, isRoot: boolean, log: Log): Promise<DemoOutcome> {
  const ws = await loadWorkspace(overrides);
  if (!isRoot) {
    const plan = formatPlan(makePlan(ws.compiler.compileAll(), null), false);
    return { kind: 'plan', text: `${NEEDS_ROOT}; here is what would be applied:\n\n${plan}` };
  }
  /* labUp cleans up after itself when it fails, and refuses a lab that is already up: only ours is taken down. */
  const state = await labUp(lab, ws.inventory.hosts, ws.inventory.source, log);
  try {
    await labApply(state, ws, backend, log);
    return { kind: 'probed', report: await labProbe(state, ws, { backend, extraPorts: [] }, log) };
  } finally {
    await labDown(lab, log);
  }
}
