/**
 * The agent in fleet mode: publishes what it observes of its host (membership and liveness leases, see
 * src/fleet/register.ts), watches registrations, observations and policy, recompiles and applies its own
 * ruleset on every (debounced) change, and writes its status. Observations are gathered again when the policy
 * starts naming other local users, and every `factsIntervalMs` (addresses change); they are put again at once
 * when its key disappears while it runs. Every key readers reject, and every address conflict, is logged once.
 * With flow logs given, it also publishes its host's denied or audited flows under `flows/<name>`; with a counter
 * reader, its drop and reject totals under `counters/<name>` when they change.
 */
import type { Etcd3 } from 'etcd3';
import type { ControlPlane } from '../compile/control-plane.ts';
import type { Keys } from '../fleet/keys.ts';
import { Membership } from '../fleet/register.ts';
import type { AgentStatus } from '../fleet/status.ts';
import { LatestWriter } from '../fleet/latest-writer.ts';
import { FleetView } from '../fleet/view.ts';
import { FleetWatch } from '../fleet/watch.ts';
import { canonicalJson } from '../inventory/revision.ts';
import type { Resolver } from '../resolve/resolver.ts';
import type { Applier } from './applier.ts';
import { FlowPublisher } from './flow-publisher.ts';
import { DEFAULT_COUNTERS_INTERVAL_MS, DEFAULT_DRIFT_INTERVAL_MS, DEFAULT_FLOWS_INTERVAL_MS, DEFAULT_GRACE_SECONDS } from '../defaults.ts';
import type { Logger } from './logger.ts';
import type { AgentMetrics } from './metrics.ts';
import { VERSION } from '../version.ts';
import { AgentLoop, type FleetState, type Outcome } from './loop.ts';
import { CounterPublisher, DropReporter } from './drop-reporter.ts';
import type { ChainCounters } from '../kernel/backend.ts';

export interface EtcdAgentOptions {
  host: string;
  client: Etcd3;
  keys: Keys;
  /** The etcd:// URL, for messages. */
  source: string;
  /** Liveness lease TTL. */
  ttlSeconds: number;
  /** Membership lease TTL: how long peers keep this host after its agent stopped heartbeating. */
  graceSeconds?: number;
  /** This host's observation, given the users the policy names. */
  facts: (policyUsers: string[]) => Promise<Record<string, unknown>>;
  applier: Applier;
  resolver: Resolver;
  /** The etcd members: an automatic failsafe keeps them reachable (src/compile/control-plane.ts). */
  controlPlane?: ControlPlane;
  log: Logger;
  quietMs?: number;
  maxMs?: number;
  factsIntervalMs?: number;
  /** How often to re-check the kernel against what was applied (a drifted ruleset is loaded again). */
  driftIntervalMs?: number;
  /** Log files of denied or audited flows to publish under `flows/<name>`; none: nothing published. */
  flowLogs?: readonly string[];
  /**
   * The kernel's drop counters: reported under `drops/<name>` while a canary rollout names this host, and their
   * totals under `counters/<name>` when they changed, read every `countersIntervalMs`.
   */
  counters?: () => Promise<ChainCounters[]>;
  countersIntervalMs?: number;
  flowsIntervalMs?: number;
  /** Told of watched changes and of the etcd connection (the applier reports applies itself). */
  metrics?: Pick<AgentMetrics, 'etcdChange' | 'etcdConnected'>;
}

const DEFAULT_FACTS_INTERVAL_MS = 60_000;

export class EtcdAgent {
  readonly view: FleetView;
  readonly watch: FleetWatch;
  readonly loop: AgentLoop;
  readonly membership: Membership;
  readonly status: LatestWriter<AgentStatus>;
  readonly flows: FlowPublisher | null;
  readonly drops: DropReporter | null;
  readonly counters: CounterPublisher | null;
  /** The candidate this host is a canary of, and when it first saw it (it waits the candidate's baselineMs). */
  private canaryOf: { text: string; seenAt: number } | null = null;
  private baselineTimer: NodeJS.Timeout | null = null;
  private policyUsers = '';
  private published = '';
  private lastStatus: AgentStatus;
  private factsTimer: NodeJS.Timeout | null = null;
  private driftTimer: NodeJS.Timeout | null = null;
  private logged = new Set<string>();
  /** Watch events seen (for the benchmark). */
  events = 0;

  constructor(private readonly options: EtcdAgentOptions) {
    const { keys, host, log } = options;
    this.view = new FleetView(keys, options.source);
    this.membership = new Membership(options.client, keys, host, options.ttlSeconds, options.graceSeconds ?? DEFAULT_GRACE_SECONDS, log);
    this.status = new LatestWriter<AgentStatus>(options.client, keys.statusOf(host), log);
    const flowLogs = options.flowLogs ?? [];
    this.flows = flowLogs.length === 0 ? null : new FlowPublisher(host, flowLogs, options.client, keys.flowsOf(host), log);
    this.drops = options.counters === undefined ? null : new DropReporter(options.client, keys.dropsOf(host), options.counters, log);
    this.counters = options.counters === undefined ? null : new CounterPublisher(options.client, keys.countersOf(host), options.counters, () => this.membership.heartbeatLease(), log);
    this.lastStatus = { host, revision: 0, policyRevision: null, inventoryRevision: null, hash: null, mode: null, appliedAt: null, drift: false, error: null, errorAt: null, version: VERSION };
    this.loop = new AgentLoop({
      host,
      read: () => this.state(),
      applier: options.applier,
      resolver: options.resolver,
      ...(options.controlPlane === undefined ? {} : { controlPlane: options.controlPlane }),
      log,
      report: (outcome) => this.report(outcome),
      ...(options.quietMs === undefined ? {} : { quietMs: options.quietMs }),
      ...(options.maxMs === undefined ? {} : { maxMs: options.maxMs }),
      revision: () => this.view.revision,
    });
    this.watch = new FleetWatch(options.client, keys, this.view, {
      log,
      ...(options.metrics === undefined ? {} : { connection: (connected: boolean) => options.metrics?.etcdConnected(connected) }),
      changed: (change, deleted) => {
        this.events++;
        options.metrics?.etcdChange();
        if (change?.kind === 'rejected') log.warn({ key: change.diagnostic.file }, change.diagnostic.message);
        if (deleted === true && (change?.kind === 'observation' || change?.kind === 'claim') && change.name === host) void this.membership.republish(`${keys.member(host)} disappeared`);
        this.followRollout();
        /* Another host's keys: dropped when no rule of this host selects it, set elements when one does (issue 15). */
        if (change !== undefined && change !== null && change.kind !== 'rejected' && change.name !== host) {
          const { name } = change;
          this.loop.hostChanged(name, (before) => this.view.isolated(name, before));
        } else this.loop.trigger();
        void this.refreshFactsIfPolicyUsersChanged();
      },
    });
  }

  /** Whether this host is a canary of the running rollout: it then reports its drops, and applies after the baseline. */
  private followRollout(): void {
    const candidate = this.view.candidate();
    const text = candidate !== null && candidate.canaries.includes(this.options.host) ? JSON.stringify(candidate) : null;
    if (text !== (this.canaryOf?.text ?? null)) {
      if (this.baselineTimer !== null) clearTimeout(this.baselineTimer);
      this.baselineTimer = null;
      this.canaryOf = text === null ? null : { text, seenAt: Date.now() };
      const wait = candidate?.baselineMs ?? 0;
      if (text !== null && wait > 0) {
        this.baselineTimer = setTimeout(() => this.loop.trigger(), wait);
        this.baselineTimer.unref();
      }
    }
    this.drops?.set(this.canaryOf !== null);
  }

  private state(): FleetState | null {
    /* A canary applies the candidate of a rollout (after its baseline); every other host only ever sees `policy`. */
    const baseline = this.view.candidate()?.baselineMs ?? 0;
    const waiting = this.canaryOf !== null && Date.now() - this.canaryOf.seenAt < baseline;
    const policy = (waiting ? null : this.view.candidateFor(this.options.host)) ?? this.view.policy();
    if (policy === null) return null;
    const inventory = this.view.inventory();
    this.logNew(inventory.diagnostics.map((d) => `${d.file ?? ''}: ${d.message}`));
    return { policy, inventory, revision: this.view.revision };
  }

  /** Logs each rejection or conflict once, while it lasts. */
  private logNew(messages: string[]): void {
    const now = new Set(messages);
    for (const m of now) if (!this.logged.has(m)) this.options.log.warn(m);
    this.logged = now;
  }

  /** Registers, then watches; resolves once both have reached etcd once. */
  async start(): Promise<void> {
    await this.publishFacts();
    await this.watch.start();
    this.followRollout();
    this.factsTimer = setInterval(() => void this.publishFacts(), this.options.factsIntervalMs ?? DEFAULT_FACTS_INTERVAL_MS);
    this.factsTimer.unref();
    /* Every cycle goes through applyRuleset, which compares the kernel with what it applied and reloads on drift. */
    this.driftTimer = setInterval(() => this.loop.recheck(), this.options.driftIntervalMs ?? DEFAULT_DRIFT_INTERVAL_MS);
    this.driftTimer.unref();
    this.flows?.start(this.options.flowsIntervalMs ?? DEFAULT_FLOWS_INTERVAL_MS);
    this.counters?.start(this.options.countersIntervalMs ?? DEFAULT_COUNTERS_INTERVAL_MS);
  }

  private usersOfPolicy(): string[] {
    try {
      const rules = this.view.policy()?.policy.rules ?? [];
      return [...new Set(rules.flatMap((r) => (r.user === null ? [] : [r.user])))].sort();
    } catch {
      return this.policyUsers === '' ? [] : this.policyUsers.split(',');
    }
  }

  private async refreshFactsIfPolicyUsersChanged(): Promise<void> {
    if (this.usersOfPolicy().join(',') !== this.policyUsers) await this.publishFacts();
  }

  private async publishFacts(): Promise<void> {
    try {
      const users = this.usersOfPolicy();
      this.policyUsers = users.join(',');
      const observed = await this.options.facts(users);
      const text = canonicalJson(observed);
      if (text === this.published) return;
      this.published = text;
      const interfaces = (observed['interfaces'] ?? {}) as Record<string, string[]>;
      await this.membership.publish({ text, addresses: [...new Set(Object.values(interfaces).flat())] });
    } catch (cause) {
      this.options.log.error({ err: (cause as Error).message }, 'gathering facts failed; the published facts stay');
    }
  }

  /**
   * The status is written only when what it says changes: the ruleset applied (hash, revisions, mode), drift or
   * the error. A cycle that applied nothing new keeps the revision and mode of the last change, so periodic checks
   * and other hosts' irrelevant changes write nothing.
   */
  private report(outcome: Outcome): void {
    const now = new Date().toISOString();
    const previous = this.lastStatus;
    const same = outcome.ok && outcome.result.mode === 'unchanged' && outcome.result.hash === previous.hash;
    this.lastStatus = outcome.ok
      ? {
          host: this.options.host,
          revision: same ? previous.revision : outcome.revision,
          policyRevision: outcome.ruleset.policyRevision,
          inventoryRevision: outcome.ruleset.inventoryRevision,
          hash: outcome.result.hash,
          mode: same ? previous.mode : outcome.result.mode,
          appliedAt: same && previous.appliedAt !== null ? previous.appliedAt : now,
          drift: outcome.result.drifted === true,
          error: null,
          errorAt: null,
          version: VERSION,
        }
      : { ...previous, error: outcome.error, errorAt: now };
    if (outcome.ok && outcome.result.drifted === true) this.options.log.warn({ hash: outcome.result.hash.slice(0, 12) }, 'the kernel had drifted from the applied ruleset: loaded it again');
    if (JSON.stringify(this.lastStatus) !== JSON.stringify(previous)) void this.status.write(this.lastStatus);
  }

  /**
   * Stops watching and keepalives. Without `leave` the leases are not revoked (a restart must not make this
   * host leave: it stays a member for the grace period); with it (`--leave-on-stop`) the host leaves now.
   */
  async close(leave = false): Promise<void> {
    if (this.factsTimer !== null) clearInterval(this.factsTimer);
    if (this.driftTimer !== null) clearInterval(this.driftTimer);
    if (this.baselineTimer !== null) clearTimeout(this.baselineTimer);
    this.drops?.close();
    this.counters?.close();
    this.loop.close();
    if (leave) await this.membership.leave().catch((cause: Error) => this.options.log.error({ err: cause.message }, 'leaving the fleet failed; the membership expires after the grace period'));
    else this.membership.close();
    this.status.close();
    this.flows?.close();
    await this.watch.close();
  }
}
