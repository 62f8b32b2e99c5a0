/**
 * A canary rollout (`push --canary`): the candidate goes to `policy-candidate` for the canaries only; health
 * gates: every canary applies it (its status names the candidate's policy revision, without error) and stays
 * alive and without error for the bake time. Pass: the candidate becomes `policy` (every host) and the
 * candidate key goes, in one transaction. Fail: the candidate key goes; the canaries return to `policy`, no
 * other host ever saw the candidate. With a drop factor, the canaries first keep the current policy for the
 * baseline window while they report their drops, and at the end of the bake the drop-rate gate compares
 * each canary's rate during the bake with its rate before (src/fleet/drop-rate.ts).
 */
import type { Etcd3 } from 'etcd3';
import { setTimeout as wait } from 'node:timers/promises';
import { HostIndex } from '../query/host-index.ts';
import { parseQuery } from '../query/parser.ts';
import type { Host } from '../inventory/types.ts';
import { encodeCandidate } from './candidate.ts';
import type { Keys } from './keys.ts';
import { decodeDropSample, DropHistory, dropGateProblem, type DropRates } from './drop-rate.ts';
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
  /** The drop-rate gate: a canary may drop at most this many times its rate before (+ MIN_DROP_RATE); 0: no gate. */
  dropFactor: number;
  /** How long the canaries report their drops under the current policy before applying the candidate. */
  baselineMs: number;
}

/** The drop samples the canaries wrote during this rollout (a sample left by an earlier rollout is skipped). */
class DropWatch {
  readonly history = new DropHistory();
  private stale = new Map<string, string>();

  constructor(
    private readonly client: Etcd3,
    private readonly keys: Keys,
    private readonly canaries: readonly string[],
  ) {}

  /** Notes the samples present before the rollout: they are not this rollout's. */
  async start(): Promise<void> {
    this.stale = await readPerHost(this.client, this.keys.drops);
  }

  async read(): Promise<void> {
    const now = await readPerHost(this.client, this.keys.drops);
    for (const name of this.canaries) {
      const text = now.get(name);
      if (text === undefined || text === this.stale.get(name)) continue;
      const sample = decodeDropSample(text);
      if (sample !== null) this.history.add(name, sample);
    }
  }

  /** Each canary's rate before and after it applied the candidate (its status's appliedAt, its own clock). */
  rates(appliedAt: ReadonlyMap<string, number>): DropRates[] {
    return this.canaries.map((host) => {
      const at = appliedAt.get(host);
      return at === undefined
        ? { host, before: null, during: null }
        : { host, before: this.history.rate(host, 0, at), during: this.history.rate(host, at, Number.POSITIVE_INFINITY) };
    });
  }
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
  const gated = options.dropFactor > 0;
  const drops = new DropWatch(client, keys, options.canaries);
  if (gated) await drops.start();
  const created = await client
    .if(keys.candidate, 'Create', '==', 0)
    .then(client.put(keys.candidate).value(encodeCandidate({ policy: options.record, canaries: options.canaries, startedAt, ...(gated ? { baselineMs: options.baselineMs } : {}) })))
    .commit();
  if (!created.succeeded) return { promoted: false, gate: 'another canary rollout is running (policy-candidate exists)' };
  const fail = async (gate: string): Promise<RolloutOutcome> => {
    await client.delete().key(keys.candidate).exec();
    return { promoted: false, gate };
  };
  options.progress(
    gated
      ? `canaries ${options.canaries.join(', ')}: measuring their drops for ${options.baselineMs} ms, then applying candidate ${options.policyRevision}`
      : `canaries ${options.canaries.join(', ')}: applying candidate ${options.policyRevision}`,
  );
  /** When each canary applied the candidate (its clock): the drop samples before are the baseline, after the bake's. */
  const appliedAt = new Map<string, number>();
  for (const deadline = Date.now() + options.applyTimeoutMs + (gated ? options.baselineMs : 0); ; ) {
    if (gated) await drops.read();
    const problem = await gateProblem(client, keys, options, startedAt, false);
    if (problem !== null) return fail(problem);
    const statuses = await readPerHost(client, keys.status);
    const pending = options.canaries.filter((name) => parseStatus(statuses.get(name) ?? '')?.policyRevision !== options.policyRevision);
    if (pending.length === 0) {
      for (const name of options.canaries) {
        const at = parseStatus(statuses.get(name) ?? '')?.appliedAt;
        if (at != null) appliedAt.set(name, Date.parse(at));
      }
      break;
    }
    if (Date.now() > deadline) return fail(`canaries ${pending.join(', ')} did not apply the candidate within ${options.applyTimeoutMs} ms`);
    await wait(250);
  }
  options.progress(`every canary applied it; baking ${options.bakeMs} ms`);
  for (const end = Date.now() + options.bakeMs; Date.now() < end; ) {
    await wait(Math.min(500, Math.max(0, end - Date.now())));
    if (gated) await drops.read();
    const problem = await gateProblem(client, keys, options, startedAt, true);
    if (problem !== null) return fail(problem);
  }
  if (gated) {
    const problem = dropGateProblem(drops.rates(appliedAt), options.dropFactor);
    if (problem !== null) return fail(problem);
  }
  const promoted = await client.if(keys.candidate, 'Create', '>', 0).then(client.put(keys.policy).value(options.record), client.delete().key(keys.candidate)).commit();
  if (!promoted.succeeded) return { promoted: false, gate: 'the candidate was removed during the rollout' };
  return { promoted: true, etcdRevision: promoted.header.revision };
}
