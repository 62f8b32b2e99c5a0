/**
 * `lab apply`: every host's ruleset loaded into its namespace through the kernel backends, as `palisade
 * apply` would on the host. Switching backend first removes what the other backend loaded.
 */
import type { Workspace } from '../app/workspace.ts';
import type { Host } from '../inventory/types.ts';
import type { BackendName } from '../kernel/backend.ts';
import { loadRuleset, removeRuleset } from '../kernel/load.ts';
import { LabError, writeState, type LabState } from './state.ts';
import type { Log } from './topology.ts';

/** Loads in a few namespaces at once: each load is a handful of short tool runs. */
const PARALLEL_LOADS = 4;

/** The lab must have been made from this inventory: the same hosts, no more, no less. */
export function checkSameHosts(state: LabState, hosts: readonly Host[]): void {
  const inLab = new Set(state.hosts.map((h) => h.host));
  const inInventory = new Set(hosts.map((h) => h.name));
  const differ = [...[...inLab].filter((h) => !inInventory.has(h)), ...[...inInventory].filter((h) => !inLab.has(h))];
  if (differ.length > 0) {
    throw new LabError(`lab ${state.lab} was made from another inventory (${state.inventory}); hosts differ: ${differ.join(', ')}. Run lab down, then lab up with this inventory`);
  }
}

/** Identifies what a ruleset was compiled from, to tell whether the loaded rulesets are the current ones. */
export const revisionOf = (ws: Pick<Workspace, 'policy' | 'inventory'>): string => `${ws.policy.revision}/${ws.inventory.revision}`;

export async function labApply(state: LabState, ws: Workspace, backend: BackendName, log: Log): Promise<void> {
  const { compiler } = ws;
  checkSameHosts(state, ws.inventory.hosts);
  const previous = state.backend;
  state.backend = backend;
  state.revision = revisionOf(ws);
  await writeState(state);
  const queue = [...state.hosts];
  let warnings = 0;
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const target = { netns: next.namespace };
      if (previous !== null && previous !== backend) await removeRuleset(previous, target);
      const rs = compiler.compile(next.host);
      warnings += rs.warnings.length;
      await loadRuleset(rs, backend, target);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_LOADS }, worker));
  log(`lab ${state.lab}: loaded ${state.hosts.length} rulesets with ${backend}${warnings > 0 ? ` (${warnings} compile warnings: see palisade check)` : ''}`);
}
