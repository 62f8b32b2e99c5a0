/**
 * The agent's loop, the same for every source: on a (debounced) change, read the fleet state, compile this
 * host's ruleset and hand it to the applier. Anything invalid (policy, our own facts rejected, our host
 * missing) keeps the last good ruleset in the kernel: the agent never flushes. A failed apply is retried
 * with backoff; invalid input waits for the next change.
 */
import { namesToResolve } from '../compile/compile.ts';
import type { ControlPlane } from '../compile/control-plane.ts';
import type { Ruleset } from '../compile/ir.ts';
import { InputError, formatDiagnostic } from '../diagnostics.ts';
import { backoffDelay } from '../fleet/backoff.ts';
import { translateRawRules } from '../kernel/iptables-translate.ts';
import type { Inventory } from '../inventory/types.ts';
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
  | { ok: true; state: FleetState; ruleset: Ruleset; result: AppliedResult }
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
}


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

  constructor(private readonly options: LoopOptions) {
    this.debouncer = new Debouncer(() => this.cycle(), options.quietMs ?? DEFAULT_QUIET_MS, options.maxMs ?? DEFAULT_MAX_MS);
  }

  trigger(): void {
    this.debouncer.trigger();
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
      const rawTranslations = await translateRawRules(state.policy.policy.raw);
      const compiler = sharedCompiler({ policy: state.policy.policy, inventory: state.inventory, names: await this.resolveNames(state), rawTranslations, ...(controlPlane === undefined ? {} : { controlPlane }) });
      if (compiler.host(host) === undefined) {
        const why = state.inventory.diagnostics.find((d) => d.host === host);
        throw new InputError([{ severity: 'error', message: `host "${host}" is not in the fleet${why === undefined ? '' : ` (${why.message})`}: keeping the last good ruleset` }]);
      }
      const ruleset = compiler.compile(host);
      const result = await this.options.applier.apply(ruleset);
      this.failures = 0;
      const sets = ruleset.sets.reduce((n, s) => n + s.elements.length, 0);
      /* The periodic drift check cycles without changes: a cycle that changed nothing at a revision already applied logs at debug. */
      const level = result.mode === 'unchanged' && revision === this.appliedRevision ? 'debug' : 'info';
      this.appliedRevision = revision;
      log[level]({ revision, mode: result.mode, hash: result.hash.slice(0, 12), hosts: state.inventory.hosts.length, elements: sets }, 'ruleset applied');
      for (const w of [...ruleset.warnings, ...result.warnings]) log[level === 'info' ? 'warn' : 'debug'](w);
      this.options.report?.({ ok: true, state, ruleset, result });
    } catch (cause) {
      const message = describe(cause);
      log.error({ revision, err: message }, 'not applied; the last good ruleset stays');
      this.options.report?.({ ok: false, revision, error: message });
      if (!(cause instanceof InputError)) this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== null) return;
    const delay = backoffDelay(this.failures++, 500, 30_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.trigger();
    }, delay);
  }

  close(): void {
    this.debouncer.cancel();
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
  }
}
