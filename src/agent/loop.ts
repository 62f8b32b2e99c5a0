/**
 * The agent's loop, the same for every source: on a (debounced) change, read the fleet state, compile this
 * host's ruleset and hand it to the applier. Anything invalid (policy, our own facts rejected, our host
 * missing) keeps the last good ruleset in the kernel: the agent never flushes. A failed apply is retried
 * with backoff; invalid input waits for the next change.
 */
import { namesToResolve } from '../compile/compile.ts';
import type { ControlPlane } from '../compile/control-plane.ts';
import { IncrementalRuleset, type Isolated } from '../compile/incremental.ts';
import type { Ruleset } from '../compile/ir.ts';
import { InputError, formatDiagnostic } from '../diagnostics.ts';
import { backoffDelay } from '../fleet/backoff.ts';
import { translateRawRules } from '../kernel/iptables-translate.ts';
import { localServices } from '../kernel/cgroup.ts';
import type { Policy } from '../policy/types.ts';
import type { Host, Inventory } from '../inventory/types.ts';
import type { LoadedPolicy } from '../policy/load.ts';
import { resolveAll, type NameResolution, type Resolver } from '../resolve/resolver.ts';
import type { AppliedResult, Applier } from './applier.ts';
import { sharedCompiler } from './compiler-cache.ts';
import { Debouncer } from './debounce.ts';
import { DEFAULT_MAX_MS, DEFAULT_QUIET_MS } from '../defaults.ts';
import type { Logger } from './logger.ts';

export interface FleetState {
  policy: LoadedPolicy;
  inventory: Inventory;
  /** The source's revision (etcd revision; a counter for files). */
  revision: number;
}

export type Outcome =
  /** `revision`: the source's revision the ruleset reflects; `incremental`: set elements updated without a compile. */
  | { ok: true; revision: number; ruleset: Ruleset; result: AppliedResult; incremental: boolean }
  | { ok: false; revision: number; error: string };

export interface LoopOptions {
  host: string;
  /** The current state; null while there is none yet (no policy pushed). Throws InputError when invalid. */
  read: () => FleetState | null | Promise<FleetState | null>;
  applier: Applier;
  resolver: Resolver;
  /** Fleet mode: the etcd members every ruleset keeps reachable. */
  controlPlane?: ControlPlane;
  log: Logger;
  report?: (outcome: Outcome) => void;
  quietMs?: number;
  maxMs?: number;
  /** The source's revision now (for incremental updates, which read no state); with it, other hosts' changes can be applied incrementally (hostChanged). */
  revision?: () => number;
  /** This machine's services (cgroup v2): which run, and where the hierarchy is. Default: the local ones. */
  services?: LocalServices;
  /** How often the cgroups of the policy's services are looked at, for a unit that starts, stops or restarts. */
  unitPollMs?: number;
}

export type LocalServices = ReturnType<typeof localServices>;

export const DEFAULT_UNIT_POLL_MS = 2000;
/** setTimeout's longest delay; an expiry further away is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;


function describe(cause: unknown): string {
  if (cause instanceof InputError) return cause.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic).join('\n');
  return cause instanceof Error ? cause.message : String(cause);
}

export class AgentLoop {
  private readonly debouncer: Debouncer;
  private names: { policyRevision: string; key: string; resolved: Map<string, NameResolution> } | null = null;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private appliedRevision: number | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private unitTimer: NodeJS.Timeout | null = null;
  /** The last compile, to follow other hosts' changes with set-element updates; null: the next cycle compiles. */
  private incremental: IncrementalRuleset | null = null;
  private recompile = true;
  private closed = false;
  /** The ruleset last handed to the applier successfully. */
  private applied: Ruleset | null = null;
  /** Full compiles, incremental updates, other hosts' changes dropped as irrelevant, drift checks of an unchanged ruleset (tests, benchmarks). */
  readonly counts = { compiles: 0, updates: 0, dropped: 0, checks: 0 };

  constructor(private readonly options: LoopOptions) {
    this.debouncer = new Debouncer(() => this.cycle(), options.quietMs ?? DEFAULT_QUIET_MS, options.maxMs ?? DEFAULT_MAX_MS);
  }

  /** Something the whole ruleset depends on may have changed (policy, this host, a resync): compile again. */
  trigger(): void {
    if (this.closed) return;
    this.recompile = true;
    this.debouncer.trigger();
  }

  /**
   * The periodic drift check: the current ruleset goes through the applier again, which compares the kernel with
   * what it applied and loads it again on drift. No compile unless one is due: at 100,000 hosts a compile every
   * minute cost each agent seconds of CPU (bench/fleet-sim.ts).
   */
  recheck(): void {
    if (this.closed) return;
    if (this.incremental === null) this.recompile = true;
    this.debouncer.trigger();
  }

  /**
   * Another host's keys changed. Dropped at once when no set of this host selects it (before or after);
   * otherwise its set-element changes are applied at the next cycle, or everything is compiled again when a
   * delta cannot express the change (src/compile/incremental.ts).
   */
  hostChanged(name: string, isolate: (before: Host | null) => Isolated): void {
    if (this.closed) return;
    const incremental = this.recompile ? null : this.incremental;
    const relevance = incremental === null ? 'recompile' : incremental.note(name, isolate);
    if (relevance === 'irrelevant') {
      this.counts.dropped++;
      return;
    }
    if (relevance === 'recompile') this.trigger();
    else this.debouncer.trigger();
  }

  idle(): Promise<void> {
    return this.debouncer.idle();
  }

  private async resolveNames(state: FleetState): Promise<Map<string, NameResolution>> {
    const wanted = namesToResolve(state.policy.policy, state.inventory);
    const key = wanted.join(',');
    if (this.names?.policyRevision !== state.policy.policy.revision || this.names.key !== key) {
      this.names = { policyRevision: state.policy.policy.revision, key, resolved: await resolveAll(wanted, this.options.resolver) };
    }
    return this.names.resolved;
  }

  private async cycle(): Promise<void> {
    if (!this.recompile && this.incremental !== null) return this.update(this.incremental);
    this.recompile = false;
    /* Changes seen while this compile runs must not be noted on the old one: they make the next cycle compile too. */
    this.incremental = null;
    const { host, log } = this.options;
    let revision = 0;
    try {
      const state = await this.options.read();
      if (state === null) {
        log.info('no policy in the fleet yet: nothing applied');
        return;
      }
      revision = state.revision;
      const { controlPlane } = this.options;
      const { policy } = state.policy;
      const now = Date.now();
      const services = this.options.services ?? localServices();
      this.watchTime(policy, now);
      this.watchUnits(policy, services);
      const rawTranslations = await translateRawRules(policy.raw);
      const compiler = sharedCompiler({
        policy,
        inventory: state.inventory,
        names: await this.resolveNames(state),
        rawTranslations,
        now,
        cgroupMount: services.cgroupMount,
        serviceRunning: services.serviceRunning,
        serviceCgroupId: services.serviceCgroupId,
        ...(controlPlane === undefined ? {} : { controlPlane }),
      });
      if (compiler.host(host) === undefined) {
        const why = state.inventory.diagnostics.find((d) => d.host === host);
        throw new InputError([{ severity: 'error', message: `host "${host}" is not in the fleet${why === undefined ? '' : ` (${why.message})`}: keeping the last good ruleset` }]);
      }
      const ruleset = compiler.compile(host);
      this.counts.compiles++;
      const result = await this.options.applier.apply(ruleset);
      this.failures = 0;
      this.applied = ruleset;
      if (this.options.revision !== undefined && !this.recompile) this.incremental = new IncrementalRuleset(compiler, ruleset, compiler.host(host) as Host);
      const sets = ruleset.sets.reduce((n, s) => n + s.elements.length, 0);
      /* The periodic drift check cycles without changes: a cycle that changed nothing at a revision already applied logs at debug. */
      const level = result.mode === 'unchanged' && revision === this.appliedRevision ? 'debug' : 'info';
      this.appliedRevision = revision;
      log[level]({ revision, mode: result.mode, hash: result.hash.slice(0, 12), hosts: state.inventory.hosts.length, elements: sets }, 'ruleset applied');
      for (const w of [...ruleset.warnings, ...result.warnings]) log[level === 'info' ? 'warn' : 'debug'](w);
      this.options.report?.({ ok: true, revision, ruleset, result, incremental: false });
    } catch (cause) {
      this.failed(revision, cause);
    }
  }

  private failed(revision: number, cause: unknown): void {
    const message = describe(cause);
    this.options.log.error({ revision, err: message }, 'not applied; the last good ruleset stays');
    this.options.report?.({ ok: false, revision, error: message });
    if (!(cause instanceof InputError)) this.scheduleRetry();
  }

  /** Other hosts joined, left or changed: their set-element changes, no compile. */
  private async update(incremental: IncrementalRuleset): Promise<void> {
    const revision = this.options.revision?.() ?? 0;
    const ruleset = incremental.update();
    try {
      const result = await this.options.applier.apply(ruleset);
      this.failures = 0;
      const changed = ruleset !== this.applied;
      this.applied = ruleset;
      if (changed) this.counts.updates++;
      else this.counts.checks++;
      this.appliedRevision = revision;
      this.options.log[changed ? 'info' : 'debug']({ revision, mode: result.mode, hash: result.hash.slice(0, 12) }, changed ? 'set elements updated' : 'ruleset checked against the kernel');
      this.options.report?.({ ok: true, revision, ruleset, result, incremental: true });
    } catch (cause) {
      /* What the kernel holds is the previous ruleset: compile again from the fleet's state. */
      this.incremental = null;
      this.recompile = true;
      this.failed(revision, cause);
    }
  }

  /** A rule that expires later makes the agent compile again at that instant, so the kernel loses it then, with no other event. */
  private watchTime(policy: Policy, now: number): void {
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    const next = Math.min(...policy.rules.flatMap((r) => (r.expires !== null && r.expires.at > now ? [r.expires.at] : [])));
    if (!Number.isFinite(next)) return;
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = null;
      this.trigger();
    }, Math.min(next - now, MAX_TIMER_MS));
  }

  /**
   * The cgroups of the policy's services are looked at every unitPollMs: a unit that starts (its cgroup appears)
   * makes the agent compile again, and its inactive rule becomes active; so does one that stops or restarts.
   */
  private watchUnits(policy: Policy, services: LocalServices): void {
    if (this.unitTimer !== null) clearInterval(this.unitTimer);
    this.unitTimer = null;
    const cgroups = [...new Set(policy.rules.flatMap((r) => (r.service === null ? [] : [r.service.cgroup])))];
    if (cgroups.length === 0 || this.closed) return;
    const seen = services.fingerprint(cgroups);
    this.unitTimer = setInterval(() => {
      if (services.fingerprint(cgroups) !== seen) this.trigger();
    }, this.options.unitPollMs ?? DEFAULT_UNIT_POLL_MS);
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== null || this.closed) return;
    const delay = backoffDelay(this.failures++, 500, 30_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.trigger();
    }, delay);
  }

  /** No cycle starts after this (one running ends; watch events still arriving are ignored). */
  close(): void {
    this.closed = true;
    this.debouncer.cancel();
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    if (this.unitTimer !== null) clearInterval(this.unitTimer);
  }
}
