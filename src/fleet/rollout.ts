/**
 * A canary rollout (`push --canary`): the candidate goes to `policy-candidate` for the canaries only; health
 * gates: every canary applies it (its status names the candidate's policy revision, without error) and stays
 * alive and without error for the bake time. Pass: the candidate becomes `policy` (every host) and the
 * candidate key goes, in one transaction. Fail: the candidate key goes; the canaries return to `policy`, no
 * other host ever saw the candidate. The drop-rate gate of the issue is not built.
 */
import type { Etcd3 } from 'etcd3';
import { setTimeout as wait } from 'node:timers/promises';
import { HostIndex } from '../query/host-index.ts';
import { parseQuery } from '../query/parser.ts';
import type { Host } from '../inventory/types.ts';
import { encodeCandidate } from './candidate.ts';
import type { Keys } from './keys.ts';
import { readPerHost } from './snapshot.ts';
import { parseStatus } from './status.ts';

/** The canaries: `N%` of the agents' hosts (by name, at least one), or the hosts a query selects. */
export function selectCanaries(spec: string, hosts: readonly Host[], agents: ReadonlySet<string>): string[] {
  const candidates = hosts.filter((h) => agents.has(h.name));
  const percent = /^(\d{1,3})%$/.exec(spec);
  if (percent !== null) {
    const count = Math.max(1, Math.ceil((candidates.length * Number(percent[1])) / 100));
    return candidates.map((h) => h.name).sort().slice(0, count);
  }
  const selected = new HostIndex(candidates).evaluate(parseQuery(spec), { environment: null, self: null });
  return selected.indices().map((i) => (candidates[i] as Host).name).sort();
}

export type RolloutOutcome = { promoted: true; etcdRevision: string } | { promoted: false; gate: string };

export interface RolloutOptions {
  record: string;
  policyRevision: string;
  canaries: string[];
  bakeMs: number;
  /** How long the canaries may take to apply. */
  applyTimeoutMs: number;
  /** Progress lines for the operator. */
  progress: (line: string) => void;
}

/** What is wrong with the canaries now (first problem), or null. */
async function gateProblem(client: Etcd3, keys: Keys, options: RolloutOptions, startedAt: string, applied: boolean): Promise<string | null> {
  const [statuses, alive] = await Promise.all([readPerHost(client, keys.status), readPerHost(client, keys.alive)]);
  for (const name of options.canaries) {
    const raw = statuses.get(name);
    const status = raw === undefined ? null : parseStatus(raw);
    if (status?.error != null && status.errorAt !== null && status.errorAt >= startedAt) return `canary ${name} failed: ${status.error}`;
    if (applied && !alive.has(name)) return `canary ${name} lost its connection to etcd (no heartbeat)`;
    if (applied && status?.policyRevision !== options.policyRevision) return `canary ${name} no longer runs the candidate`;
  }
  return null;
}

export async function runRollout(client: Etcd3, keys: Keys, options: RolloutOptions): Promise<RolloutOutcome> {
  const startedAt = new Date().toISOString();
  const created = await client
    .if(keys.candidate, 'Create', '==', 0)
    .then(client.put(keys.candidate).value(encodeCandidate({ policy: options.record, canaries: options.canaries, startedAt })))
    .commit();
  if (!created.succeeded) return { promoted: false, gate: 'another canary rollout is running (policy-candidate exists)' };
  const fail = async (gate: string): Promise<RolloutOutcome> => {
    await client.delete().key(keys.candidate).exec();
    return { promoted: false, gate };
  };
  options.progress(`canaries ${options.canaries.join(', ')}: applying candidate ${options.policyRevision}`);
  for (const deadline = Date.now() + options.applyTimeoutMs; ; ) {
    const problem = await gateProblem(client, keys, options, startedAt, false);
    if (problem !== null) return fail(problem);
    const statuses = await readPerHost(client, keys.status);
    const pending = options.canaries.filter((name) => parseStatus(statuses.get(name) ?? '')?.policyRevision !== options.policyRevision);
    if (pending.length === 0) break;
    if (Date.now() > deadline) return fail(`canaries ${pending.join(', ')} did not apply the candidate within ${options.applyTimeoutMs} ms`);
    await wait(250);
  }
  options.progress(`every canary applied it; baking ${options.bakeMs} ms`);
  for (const end = Date.now() + options.bakeMs; Date.now() < end; ) {
    await wait(Math.min(500, Math.max(0, end - Date.now())));
    const problem = await gateProblem(client, keys, options, startedAt, true);
    if (problem !== null) return fail(problem);
  }
  const promoted = await client.if(keys.candidate, 'Create', '>', 0).then(client.put(keys.policy).value(options.record), client.delete().key(keys.candidate)).commit();
  if (!promoted.succeeded) return { promoted: false, gate: 'the candidate was removed during the rollout' };
  return { promoted: true, etcdRevision: promoted.header.revision };
}
