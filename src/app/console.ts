/**
 * What the console shows, kept current: policy, inventory and a compiler over them, the observed flows and, in
 * a fleet, every host's state. From files (loaded once, like every command), or from etcd: a snapshot, then
 * watches of hosts and policy (FleetWatch, as the agents use) and of statuses, liveness and flows, so a host
 * joining or a push reaches the page without a reload. Changes come in bursts: the world is rebuilt after
 * 100 ms of quiet (at most every 500 ms), and subscribers are told once per rebuild. The agents' drop and reject
 * totals (`counters/`) are gathered for COUNTERS_BATCH_MS first, and a rebuild that follows only per-host keys
 * (statuses, liveness, flows, counters) keeps the compiler, so the map is not computed again for them.
 */
import type { Etcd3, Watcher } from 'etcd3';
import pino from 'pino';
import { FleetCompiler, namesToResolve } from '../compile/compile.ts';
import { error, InputError, UsageError } from '../diagnostics.ts';
import type { Flow } from '../audit/flow.ts';
import { readFlowFiles } from '../audit/flow.ts';
import { parsePublishedCounters, type PublishedCounters } from '../fleet/counters.ts';
import { fleetFlows } from '../fleet/flows.ts';
import { keyEntry, readPerHost } from '../fleet/snapshot.ts';
import { FleetView } from '../fleet/view.ts';
import { FleetWatch } from '../fleet/watch.ts';
import { nameUnder } from '../fleet/keys.ts';
import type { Inventory } from '../inventory/types.ts';
import { localServices } from '../kernel/cgroup.ts';
import { parsePolicyFiles } from '../policy/load.ts';
import type { Policy } from '../policy/types.ts';
import { resolveAll, StaticResolver, type Resolver } from '../resolve/resolver.ts';
import type { ConfigOverrides } from './config.ts';
import { fleetReportOf, type HostRow } from './fleet-report.ts';
import { openFleet, type Fleet, type FleetOptions } from './fleet.ts';
import { loadWorkspace, resolverFor } from './workspace.ts';

export interface ConsoleWorld {
  mode: 'files' | 'fleet';
  /** The inventory source (file, `exec:…`, `etcd://…`). */
  source: string;
  /** Grows by one at every rebuild: what the page compares to know it is behind. */
  generation: number;
  policy: Policy;
  inventory: Inventory;
  compiler: FleetCompiler;
  resolver: Resolver;
  /** Observed flows: `--flows` files, or what the fleet's agents publish. */
  flows: Flow[];
  /** Fleet mode: every host's state (as `fleet status`); null with files. */
  hosts: HostRow[] | null;
  /** Fleet mode: the drop and reject totals each agent published (`counters/<name>`), checked; empty with files. */
  counters: ReadonlyMap<string, PublishedCounters>;
  /** What the reader should know: no policy pushed, an invalid policy, rejected keys. */
  problems: string[];
}

export interface ConsoleSource {
  world(): ConsoleWorld;
  /** `listener` is called after every rebuild; returns the unsubscribe. */
  subscribe(listener: (world: ConsoleWorld) => void): () => void;
  close(): Promise<void>;
}

const EMPTY_POLICY = (): Policy => parsePolicyFiles([{ path: '(no policy)', text: 'rules: {}\n' }]).policy;

async function compilerFor(policy: Policy, inventory: Inventory, resolver: Resolver): Promise<FleetCompiler> {
  const names = await resolveAll(namesToResolve(policy, inventory), resolver);
  return new FleetCompiler({ policy, inventory, names, now: Date.now(), ...localServices() });
}

export interface FileSourceOptions extends ConfigOverrides {
  /** Flow files (as `impact --flows`) shown on the map and judged by a pending policy. */
  flows?: string[];
}

/** Policy and inventory from files or `exec:`, read once. */
export async function fileConsoleSource(options: FileSourceOptions): Promise<ConsoleSource> {
  const [ws, flows] = await Promise.all([loadWorkspace(options), readFlowFiles(options.flows ?? [])]);
  const world: ConsoleWorld = {
    mode: 'files',
    source: ws.inventory.source,
    generation: 1,
    policy: ws.policy,
    inventory: ws.inventory,
    compiler: ws.compiler,
    resolver: resolverFor(ws.config),
    flows,
    hosts: null,
    counters: new Map(),
    problems: ws.diagnostics.map((d) => d.message),
  };
  return { world: () => world, subscribe: () => () => undefined, close: async () => undefined };
}

const QUIET_MS = 100;
const MAX_WAIT_MS = 500;
/** Agents put their counters at most once a minute each: a large fleet's puts are gathered this long. */
const COUNTERS_BATCH_MS = 2000;
/** Invalid `counters/` keys named among the problems at most (a hostile agent could write many). */
const MAX_COUNTER_PROBLEMS = 20;

class FleetSource implements ConsoleSource {
  private current: ConsoleWorld;
  private readonly listeners = new Set<(world: ConsoleWorld) => void>();
  private readonly statuses = new Map<string, string>();
  private readonly alive = new Set<string>();
  private readonly flowValues = new Map<string, string>();
  private readonly counterValues = new Map<string, string>();
  private countersTimer: NodeJS.Timeout | null = null;
  /** Whether hosts or policy changed since the last rebuild (the compiler must be built again). */
  private structural = true;
  /** What the last structure() found wrong with the policy or the inventory. */
  private structureProblems: string[] = [];
  private readonly watchers: Watcher[] = [];
  private quiet: NodeJS.Timeout | null = null;
  private firstChange: number | null = null;
  private rebuilding: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly watch: FleetWatch;

  constructor(
    private readonly fleet: Fleet,
    private readonly view: FleetView,
    private readonly resolver: Resolver,
    initial: ConsoleWorld,
  ) {
    this.current = initial;
    this.watch = new FleetWatch(fleet.client, fleet.keys, view, {
      changed: () => {
        this.structural = true;
        this.changed();
      },
      log: pino({ level: 'silent' }),
    });
  }

  async start(): Promise<void> {
    const { client, keys } = this.fleet;
    const [statuses, alive, flows, counters] = await Promise.all([readPerHost(client, keys.status), readPerHost(client, keys.alive), readPerHost(client, keys.flows), readPerHost(client, keys.counters)]);
    for (const [k, v] of statuses) this.statuses.set(k, v);
    for (const k of alive.keys()) this.alive.add(k);
    for (const [k, v] of flows) this.flowValues.set(k, v);
    for (const [k, v] of counters) this.counterValues.set(k, v);
    this.watchers.push(
      await this.perHost(client, keys.status, this.statuses),
      await this.perHost(client, keys.alive, null),
      await this.perHost(client, keys.flows, this.flowValues),
      await this.perHost(client, keys.counters, this.counterValues, () => this.countersChanged()),
    );
    await this.watch.start();
    await this.rebuild();
  }

  /** A watch of one per-host prefix; `values` null: only presence counts (liveness). */
  private async perHost(client: Etcd3, under: string, values: Map<string, string> | null, changed = (): void => this.changed()): Promise<Watcher> {
    const watcher = await client.watch().prefix(under).create();
    watcher.on('put', (kv) => {
      const name = nameUnder(keyEntry(kv).key, under);
      if (name === null) return;
      if (values === null) this.alive.add(name);
      else values.set(name, kv.value.toString());
      changed();
    });
    watcher.on('delete', (kv) => {
      const name = nameUnder(kv.key.toString(), under);
      if (name === null) return;
      if (values === null) this.alive.delete(name);
      else values.delete(name);
      changed();
    });
    watcher.on('error', () => undefined);
    return watcher;
  }

  private countersChanged(): void {
    if (this.closed || this.countersTimer !== null) return;
    this.countersTimer = setTimeout(() => {
      this.countersTimer = null;
      this.changed();
    }, COUNTERS_BATCH_MS);
  }

  private changed(): void {
    if (this.closed) return;
    const now = Date.now();
    this.firstChange ??= now;
    if (this.quiet !== null) clearTimeout(this.quiet);
    const wait = Math.max(0, Math.min(QUIET_MS, this.firstChange + MAX_WAIT_MS - now));
    this.quiet = setTimeout(() => {
      this.quiet = null;
      this.firstChange = null;
      this.rebuilding = this.rebuilding.then(() => this.rebuild());
    }, wait);
  }

  /** Policy, inventory and their compiler, built again only when hosts or policy changed. */
  private async structure(): Promise<Pick<ConsoleWorld, 'policy' | 'inventory' | 'compiler'> & { problems: string[] }> {
    if (!this.structural) return { ...this.current, problems: this.structureProblems };
    this.structural = false;
    const problems: string[] = [];
    let policy: Policy;
    try {
      const loaded = this.view.policy();
      if (loaded === null) problems.push('no policy has been pushed to this fleet yet');
      policy = loaded?.policy ?? EMPTY_POLICY();
    } catch (cause) {
      problems.push(`the pushed policy is not valid: ${(cause as Error).message}`);
      policy = EMPTY_POLICY();
    }
    const inventory = this.view.inventory();
    problems.push(...inventory.diagnostics.map((d) => `${d.file}: ${d.message}`));
    this.structureProblems = problems;
    return { policy, inventory, compiler: await compilerFor(policy, inventory, this.resolver), problems };
  }

  /** Every host's published counters that check out; the others named among the problems (a few at most). */
  private counters(problems: string[]): Map<string, PublishedCounters> {
    const counters = new Map<string, PublishedCounters>();
    let invalid = 0;
    for (const [name, text] of this.counterValues) {
      try {
        counters.set(name, parsePublishedCounters(`${this.fleet.keys.counters}${name}`, text));
      } catch (cause) {
        if (invalid++ < MAX_COUNTER_PROBLEMS) problems.push((cause as Error).message);
      }
    }
    if (invalid > MAX_COUNTER_PROBLEMS) problems.push(`${invalid - MAX_COUNTER_PROBLEMS} more invalid keys under ${this.fleet.keys.counters}`);
    return counters;
  }

  private async rebuild(): Promise<void> {
    if (this.closed) return;
    const { policy, inventory, compiler, problems: structureProblems } = await this.structure();
    const problems = [...structureProblems];
    const report = fleetReportOf(this.fleet.url, this.view, this.statuses, this.alive);
    const flows = fleetFlows(this.flowValues, this.fleet.keys.flows);
    problems.push(...flows.invalid);
    const counters = this.counters(problems);
    this.current = {
      ...this.current,
      generation: this.current.generation + 1,
      policy,
      inventory,
      compiler,
      flows: flows.flows,
      hosts: report.hosts,
      counters,
      problems,
    };
    for (const listener of this.listeners) listener(this.current);
  }

  world(): ConsoleWorld {
    return this.current;
  }

  subscribe(listener: (world: ConsoleWorld) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.quiet !== null) clearTimeout(this.quiet);
    if (this.countersTimer !== null) clearTimeout(this.countersTimer);
    await this.watch.close();
    await Promise.all(this.watchers.map((w) => w.cancel().catch(() => undefined)));
    await this.rebuilding.catch(() => undefined);
    this.fleet.client.close();
  }
}

/** A fleet on etcd, watched. Names outside the inventory resolve only through `dnsHosts` (palisade.yaml's static table), never DNS. */
export async function fleetConsoleSource(options: FleetOptions & { dnsHosts?: Record<string, string[]> }): Promise<ConsoleSource> {
  const fleet = await openFleet(options);
  const view = new FleetView(fleet.keys, fleet.url);
  const resolver = new StaticResolver(options.dnsHosts ?? {});
  const policy = EMPTY_POLICY();
  const inventory = view.inventory();
  const initial: ConsoleWorld = {
    mode: 'fleet',
    source: fleet.url,
    generation: 0,
    policy,
    inventory,
    compiler: await compilerFor(policy, inventory, resolver),
    resolver,
    flows: [],
    hosts: [],
    counters: new Map(),
    problems: [],
  };
  const source = new FleetSource(fleet, view, resolver, initial);
  try {
    await source.start();
  } catch (cause) {
    await source.close();
    if (cause instanceof InputError || cause instanceof UsageError) throw cause;
    throw new InputError([error(`etcd: ${(cause as Error).message}`, { file: fleet.url })]);
  }
  return source;
}
