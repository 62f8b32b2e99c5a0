/** `palisade status`: what is applied, by whom and when, a pending confirmation, drift, and drop counters. */
import type { ChainCounters } from '../kernel/backend.ts';
import type { Target } from '../kernel/exec.ts';
import { backendFor } from '../kernel/load.ts';
import { detectDrift, type Drift } from './drift.ts';
import { VERSION } from '../version.ts';
import { loadState, type Pending } from './state.ts';

export interface HostStatus {
  /** The palisade reporting. */
  version: string;
  applied: {
    id: string;
    host: string;
    backend: string;
    hash: string;
    policyRevision: string;
    inventoryRevision: string;
    appliedAt: string;
    command: string[];
  } | null;
  /** Whether rollback has something to return to, and what. */
  previous: { hash: string | null; appliedAt: string | null } | null;
  pending: (Pending & { timerRunning: boolean }) | null;
  drift: Drift;
  counters: ChainCounters[];
}

const alive = (pid: number | null): boolean => {
  if (pid === null) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export async function hostStatus(stateDir: string, target: Target): Promise<HostStatus> {
  const state = await loadState(stateDir);
  const a = state.applied;
  const drift = await detectDrift(a, a?.backend ?? 'nft', target);
  return {
    version: VERSION,
    applied:
      a === null
        ? null
        : { id: a.id, host: a.host, backend: a.backend, hash: a.hash, policyRevision: a.policyRevision, inventoryRevision: a.inventoryRevision, appliedAt: a.appliedAt, command: a.command },
    previous: state.previous === null ? null : { hash: state.previous.record?.hash ?? null, appliedAt: state.previous.record?.appliedAt ?? null },
    pending: state.pending === null ? null : { ...state.pending, timerRunning: alive(state.pending.timerPid) },
    drift,
    counters: a === null ? [] : await backendFor(a.backend, target).counters(),
  };
}
