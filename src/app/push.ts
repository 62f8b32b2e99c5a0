/**
 * Push: validates the policy files (parse, then compile every host of the current fleet, with the automatic
 * etcd failsafe the agents add) and runs the fleet guards (src/fleet/guards.ts: SSH from the admin networks,
 * the agents' etcd traffic) on every host, then writes them to the fleet's `policy` key. Anything invalid, or
 * a guard failing without `force`, is refused and nothing is written.
 */
import { FleetCompiler, namesToResolve, type CompileInputs } from '../compile/compile.ts';
import { InputError, OperationError, UsageError, error, hasErrors, type Diagnostic } from '../diagnostics.ts';
import { controlPlaneOf } from '../fleet/control-plane.ts';
import { defaultAdminNetworks, fleetGuardProblems, type GuardProblem } from '../fleet/guards.ts';
import { DEFAULT_DROP_FACTOR, DROP_BASELINE_MS } from '../defaults.ts';
import { runRollout, selectCanaries } from '../fleet/rollout.ts';
import { decodePolicy, encodePolicy } from '../fleet/policy-record.ts';
import { readPolicyFiles } from '../policy/files.ts';
import { parsePolicyFiles } from '../policy/load.ts';
import { resolveAll } from '../resolve/resolver.ts';
import { loadConfig, type ConfigOverrides } from './config.ts';
import { readFleetView, withFleet, type FleetOptions } from './fleet.ts';
import { resolverFor } from './workspace.ts';

export type PushOptions = ConfigOverrides &
  FleetOptions & {
    /** Push even when a guard fails. */
    force?: boolean;
    /** Where admins SSH from; default: where the policy's SSH failsafe admits from. */
    adminNetwork?: string[];
    /** Canary rollout: `N%` of the agents' hosts, or a query selecting the canaries. */
    canary?: string;
    /** How long the canaries must stay healthy before the policy goes to every host (ms). */
    bake?: number;
    /** The drop-rate gate's factor (src/fleet/drop-rate.ts); 0 turns it off. */
    dropFactor?: number;
    /** Progress lines of a canary rollout. */
    progress?: (line: string) => void;
    /** Each host validated (compiled and guarded), of how many: for a progress line. */
    onHost?: (done: number, total: number) => void;
  };

export interface PushResult {
  url: string;
  policyRevision: string;
  rules: number;
  files: number;
  /** The etcd revision of the write. */
  etcdRevision: string;
  /** How many hosts of the fleet the policy was compiled for. */
  hosts: number;
  /** Warnings of the policy and the fleet's inventory. */
  diagnostics: Diagnostic[];
  /** The canaries of a rollout that was promoted. */
  canaries: string[] | null;
}

/**
 * What push checks before it writes: every host of the fleet compiles (with the automatic etcd failsafe its agent
 * adds) and passes the fleet guards. Each ruleset is let go once guarded, so a 100,000-host fleet is validated
 * in the memory of its shared sets, not of 100,000 rulesets. Returns the guards' problems.
 */
export function validateFleet(inputs: CompileInputs, options: Pick<PushOptions, 'adminNetwork' | 'onHost'> = {}): GuardProblem[] {
  const compiler = new FleetCompiler(inputs);
  const admin = options.adminNetwork ?? defaultAdminNetworks(inputs.policy.settings.failsafe.in);
  const total = inputs.inventory.hosts.length;
  const problems: GuardProblem[] = [];
  compiler.forEachRuleset((rs, host, position) => {
    options.onHost?.(position + 1, total);
    problems.push(...fleetGuardProblems([rs], [host], admin, inputs.controlPlane));
  });
  return problems;
}

export async function pushPolicy(options: PushOptions): Promise<PushResult> {
  const config = await loadConfig(options);
  const read = await readPolicyFiles(config.policy);
  if (hasErrors(read.diagnostics)) throw new InputError(read.diagnostics);
  const loaded = parsePolicyFiles(read.files);
  const record = encodePolicy(read.files);
  return withFleet({ ...options, inventory: config.inventory }, async (fleet) => {
    /* What every reader will do with the stored record: the base names must not change the meaning. */
    decodePolicy(record, fleet.keys.policy);
    const view = await readFleetView(fleet);
    const inventory = view.inventory();
    const names = await resolveAll(namesToResolve(loaded.policy, inventory), resolverFor(config));
    const controlPlane = await controlPlaneOf(fleet.location.endpoints);
    const problems = validateFleet({ policy: loaded.policy, inventory, names, controlPlane }, options);
    if (problems.length > 0 && options.force !== true) {
      throw new InputError(problems.map((p) => error(`push refused: this policy ${p.message}; nothing was written (fix it, or pass --force)`, { host: p.host })));
    }
    const result = {
      url: fleet.url,
      policyRevision: loaded.policy.revision,
      rules: loaded.policy.rules.length,
      files: read.files.length,
      hosts: inventory.hosts.length,
      diagnostics: [...read.diagnostics, ...loaded.diagnostics, ...inventory.diagnostics],
    };
    if (options.canary === undefined) {
      const put = await fleet.client.put(fleet.keys.policy).value(record).exec();
      return { ...result, etcdRevision: put.header.revision, canaries: null };
    }
    const { registrations } = view.trusted();
    const agents = new Set([...registrations.values()].filter((r) => r.agent || view.observed(r.host.name)).map((r) => r.host.name));
    let canaries: string[];
    try {
      canaries = selectCanaries(options.canary, inventory.hosts, agents);
    } catch (cause) {
      throw new UsageError(`--canary ${options.canary}: expected N% or a query (${(cause as Error).message})`);
    }
    if (canaries.length === 0) throw new InputError([error(`--canary ${options.canary} selects no host with an agent: nothing was written`)]);
    const bakeMs = options.bake ?? 60_000;
    const outcome = await runRollout(fleet.client, fleet.keys, {
      record,
      policyRevision: loaded.policy.revision,
      canaries,
      bakeMs,
      applyTimeoutMs: bakeMs + 60_000,
      dropFactor: options.dropFactor ?? DEFAULT_DROP_FACTOR,
      baselineMs: DROP_BASELINE_MS,
      progress: options.progress ?? (() => undefined),
    });
    if (!outcome.promoted) throw new OperationError(`canary rollout failed: ${outcome.gate}; the canaries return to the current policy, no other host saw the candidate`, { kind: 'fleet' });
    return { ...result, etcdRevision: outcome.etcdRevision, canaries };
  });
}
