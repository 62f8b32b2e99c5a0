/**
 * The fleet report (`fleet status`, the console's fleet page): every host and what its agent applied, against
 * the fleet's current policy and inventory revisions. States (docs/fleet.md), worst first: invalid (a status
 * that does not parse); unregistered (an agent publishes, no registration: in no set); missing (an agent is
 * expected, no membership: never joined, or gone longer than the grace period); down (a member whose agent
 * stopped heartbeating: still in its peers' sets for the grace period); failing (the agent reports an error);
 * drifted (the kernel differs from what the agent applied); conflict (an address it claims belongs to
 * another host); lagging (the policy revision it applied is not the current one); ok; static (no agent).
 * Inventory revisions are per host (what its ruleset depends on, src/compile/compile.ts): an agent never hears of
 * a host no rule of it selects, so its inventory revision is not compared with the fleet's.
 */
import { EXIT } from '../exit-codes.ts';
import type { Diagnostic } from '../diagnostics.ts';
import type { Candidate } from '../fleet/candidate.ts';
import type { Conflict } from '../fleet/published.ts';
import { readPerHost } from '../fleet/snapshot.ts';
import { parseStatus, type AgentStatus } from '../fleet/status.ts';
import { readFleetView, withFleet, type FleetOptions } from './fleet.ts';
import type { FleetView } from '../fleet/view.ts';

export type HostState = 'ok' | 'static' | 'lagging' | 'conflict' | 'drifted' | 'failing' | 'down' | 'missing' | 'unregistered' | 'invalid';

/** States to alert on: `fleet status` exits EXIT.attention when any host is in one. */
export const ALERT_STATES: readonly HostState[] = ['lagging', 'conflict', 'drifted', 'failing', 'down', 'missing', 'unregistered', 'invalid'];

export interface HostRow {
  host: string;
  state: HostState;
  registered: boolean;
  /** Whether its agent is a member (observation on its membership lease). */
  member: boolean;
  /** Whether its agent heartbeats (liveness lease). */
  alive: boolean;
  status: AgentStatus | null;
}

/** What is known of one host, for hostState. */
export interface HostFacts {
  registered: boolean;
  /** The registration expects an agent (or one published). */
  agent: boolean;
  member: boolean;
  alive: boolean;
  /** It lost an address to another host. */
  conflict: boolean;
}

export interface FleetReport {
  url: string;
  revision: number;
  policyRevision: string | null;
  policyError: string | null;
  inventoryRevision: string;
  hosts: HostRow[];
  /** Every address two hosts claim, and who keeps it. */
  conflicts: Conflict[];
  /** The canary rollout running (`push --canary`), if any. */
  rollout: { canaries: string[]; startedAt: string } | null;
  diagnostics: Diagnostic[];
}

/** The exit code of `fleet status`: EXIT.attention when any host is in an alert state, else 0. */
export const reportExitCode = (report: FleetReport): number => (report.hosts.some((h) => ALERT_STATES.includes(h.state)) ? EXIT.attention : 0);

const rolloutOf = (candidate: Candidate | null): FleetReport['rollout'] => (candidate === null ? null : { canaries: candidate.canaries, startedAt: candidate.startedAt });

/** Pure: the state of one host. */
export function hostState(facts: HostFacts, raw: string | undefined, current: { policy: string | null }): { state: HostState; status: AgentStatus | null } {
  const status = raw === undefined ? null : parseStatus(raw);
  if (raw !== undefined && status === null) return { state: 'invalid', status };
  if (!facts.registered) return { state: facts.member ? 'unregistered' : 'missing', status };
  if (!facts.agent && !facts.member && status === null) return { state: 'static', status };
  if (!facts.member) return { state: 'missing', status };
  if (!facts.alive) return { state: 'down', status };
  if (status === null) return { state: 'missing', status };
  if (status.error !== null) return { state: 'failing', status };
  if (status.drift === true) return { state: 'drifted', status };
  if (facts.conflict) return { state: 'conflict', status };
  return { state: status.policyRevision !== current.policy ? 'lagging' : 'ok', status };
}

/** `onProgress`: steps done of all (the fleet's view, the agents' statuses and heartbeats, the report), for a progress line. */
export async function readFleetReport(options: FleetOptions, onProgress?: (done: number, total: number) => void): Promise<FleetReport> {
  return withFleet(options, async (fleet) => {
    const view = await readFleetView(fleet);
    onProgress?.(1, 3);
    const [statuses, alive] = await Promise.all([readPerHost(fleet.client, fleet.keys.status), readPerHost(fleet.client, fleet.keys.alive)]);
    onProgress?.(2, 3);
    const report = fleetReportOf(fleet.url, view, statuses, new Set(alive.keys()));
    onProgress?.(3, 3);
    return report;
  });
}

/** Pure: the report of a fleet view with the agents' statuses and the hosts whose agents heartbeat (the console keeps these current from watches). */
export function fleetReportOf(url: string, view: FleetView, statuses: ReadonlyMap<string, string>, alive: ReadonlySet<string>): FleetReport {
  let policyRevision: string | null = null;
  let policyError: string | null = null;
  try {
    policyRevision = view.policy()?.policy.revision ?? null;
  } catch (cause) {
    policyError = (cause as Error).message;
  }
  const inventory = view.inventory();
  const { registrations, unregistered, conflicts } = view.trusted();
  const names = [...new Set([...registrations.keys(), ...unregistered, ...statuses.keys()])].sort();
  const current = { policy: policyRevision };
  const hosts = names.map((host): HostRow => {
    const registration = registrations.get(host);
    const facts: HostFacts = {
      registered: registration !== undefined,
      agent: registration?.agent === true || view.observed(host),
      member: view.observed(host),
      alive: alive.has(host),
      conflict: conflicts.some((c) => c.loser === host),
    };
    return { host, registered: facts.registered, member: facts.member, alive: facts.alive, ...hostState(facts, statuses.get(host), current) };
  });
  return { url, revision: view.revision, policyRevision, policyError, inventoryRevision: inventory.revision, hosts, conflicts, rollout: rolloutOf(view.candidate()), diagnostics: inventory.diagnostics };
}
