/**
 * `lab probe`: makes sure the current policy is what the lab has loaded, plans the probes, runs them, and
 * reads the drop counters afterwards.
 */
import type { Workspace } from '../app/workspace.ts';
import type { BackendName } from '../kernel/backend.ts';
import { checkSameHosts, labApply, revisionOf } from './apply.ts';
import { exec } from './command.ts';
import { readCounters, type HostCounters } from './counters.ts';
import { summarise, type ProbeSummary } from './matrix.ts';
import { planProbes, type PortSpec } from './probe-plan.ts';
import { DEFAULT_RUN_OPTIONS, runProbes, type ProbeResult, type RunOptions } from './probe-run.ts';
import type { LabState } from './state.ts';
import type { Log, OnProgress } from './topology.ts';

export interface ProbeReport {
  lab: string;
  backend: BackendName;
  hosts: string[];
  summary: ProbeSummary;
  notes: string[];
  results: ProbeResult[];
  counters: HostCounters[];
}

export interface ProbeOptions {
  /** The backend to probe; null: whichever the lab has loaded (nft when none). */
  backend: BackendName | null;
  extraPorts: PortSpec[];
  run?: RunOptions;
  /** Probes done of all, for a progress line. */
  onProgress?: OnProgress;
}

async function hasPing(): Promise<boolean> {
  try {
    return (await exec('ping', ['-V'])).code === 0;
  } catch {
    return false;
  }
}

export async function labProbe(state: LabState, ws: Workspace, options: ProbeOptions, log: Log): Promise<ProbeReport> {
  checkSameHosts(state, ws.inventory.hosts);
  const backend = options.backend ?? state.backend ?? 'nft';
  if (state.backend !== backend || state.revision !== revisionOf(ws)) {
    log(`lab ${state.lab}: loading the current policy with ${backend} first`);
    await labApply(state, ws, backend, log);
  }
  const started = Date.now();
  const plan = planProbes({
    compiler: ws.compiler,
    hosts: ws.inventory.hosts,
    unavailableUsers: state.skippedUsers,
    extraPorts: options.extraPorts,
    probeIcmp: await hasPing(),
  });
  const results = await runProbes(state, plan, options.run ?? DEFAULT_RUN_OPTIONS, options.onProgress);
  const counters = await readCounters(state.hosts, backend);
  const skipped = state.skippedUsers.map((u) => `user ${u.name} (uid ${u.uid}) not in the lab: ${u.reason}`);
  return {
    lab: state.lab,
    backend,
    hosts: state.hosts.map((h) => h.host),
    summary: summarise(results, (Date.now() - started) / 1000),
    notes: [...plan.notes, ...skipped],
    results,
    counters,
  };
}
