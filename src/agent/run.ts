/**
 * An agent composed from its options, run until told to stop: the inventory source decides the mode (etcd:// is
 * a fleet agent, src/agent/etcd-agent.ts: facts on a lease, policy from etcd; a file inventory is a file agent,
 * src/agent/file-agent.ts, watching the files), with its applier (kernel, confirmed in fleet mode), its fleet
 * connection and its metrics. Every front end that runs an agent calls runAgent; stopping leaves the ruleset in place.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BackendName } from '../kernel/backend.ts';
import { backendFor } from '../kernel/load.ts';
import { connectEtcd } from '../fleet/client.ts';
import { controlPlaneOf } from '../fleet/control-plane.ts';
import { reachesAny } from '../fleet/reachable.ts';
import { fleetKeys } from '../fleet/keys.ts';
import { isEtcdUrl, parseEtcdUrl } from '../fleet/url.ts';
import { SystemResolver } from '../resolve/dns.ts';
import { StaticResolver } from '../resolve/resolver.ts';
import { UsageError } from '../diagnostics.ts';
import type { HostContext } from '../apply/context.ts';
import { loadConfig, type ConfigOverrides } from '../app/config.ts';
import type { FleetOptions } from '../app/fleet.ts';
import { hostContext, type HostOptions } from '../app/host.ts';
import { resolverFor } from '../app/workspace.ts';
import { confirmingApplier, kernelApplier, type Applier } from './applier.ts';
import { EtcdAgent } from './etcd-agent.ts';
import { overrideFacts, readFactsFile } from './facts-file.ts';
import { gatherFacts } from './facts.ts';
import { FileAgent } from './file-agent.ts';
import { createLogger, type Logger } from './logger.ts';
import { AgentMetrics, measuredApplier, serveMetrics } from './metrics.ts';

export interface AgentOptions extends ConfigOverrides, FleetOptions, HostOptions {
  host: string;
  backend: BackendName;
  facts?: string;
  lan?: string;
  ttl: number;
  grace: number;
  leaveOnStop?: boolean;
  etcdPeerPort: number;
  confirmWindow: number;
  driftInterval: number;
  /** Tests only (the canary e2e): no automatic etcd failsafe. */
  etcdFailsafe?: boolean;
  debounce: number;
  debounceMax: number;
  flowsFrom?: string[];
  flowsInterval: number;
  countersInterval: number;
  logLevel: string;
  metrics?: string;
}

/** Which agent ran: on files, or as a member of a fleet. */
export type AgentMode = 'files' | 'fleet';

/** Everything both kinds of agent are built with. */
interface Parts {
  options: AgentOptions;
  ctx: HostContext;
  log: Logger;
  metrics: AgentMetrics | null;
  /** The applier, counted in the metrics when they are served. */
  measured: (applier: Applier) => Applier;
  /** Resolves with the signal's name when the agent must stop (installed when the agent asks for it). */
  stopSignal: () => Promise<string>;
}

/** Runs the agent the options describe until stopSignal resolves, then closes it (and its metrics server). */
export async function runAgent(options: AgentOptions, stopSignal: () => Promise<string>): Promise<AgentMode> {
  const log = createLogger(options.logLevel, { host: options.host });
  const ctx = hostContext(options);
  let metrics: AgentMetrics | null = null;
  let server: Server | null = null;
  if (options.metrics !== undefined) {
    metrics = new AgentMetrics(() => backendFor(options.backend, ctx.target).counters());
    server = await serveMetrics(metrics, options.metrics);
    const bound = server.address() as AddressInfo;
    log.info({ metrics: `http://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}/metrics` }, 'serving metrics');
  }
  const served = metrics;
  const parts: Parts = { options, ctx, log, metrics, measured: (applier) => (served === null ? applier : measuredApplier(applier, served)), stopSignal };
  const inventory = options.inventory ?? (await loadConfig(options)).inventory;
  try {
    if (isEtcdUrl(inventory)) {
      await runFleetAgent(parts, inventory);
      return 'fleet';
    }
    await runFileAgent(parts, inventory);
    return 'files';
  } finally {
    server?.close();
  }
}

async function runFileAgent({ options, ctx, log, measured, stopSignal }: Parts, inventory: string): Promise<void> {
  if (options.flowsFrom !== undefined) throw new UsageError('--flows-from publishes to a fleet (--inventory etcd://...); on one host, read them with `palisade flows`');
  const config = await loadConfig({ ...options, inventory });
  const agent = new FileAgent({
    host: options.host,
    config,
    applier: measured(kernelApplier(ctx, options.backend)),
    resolver: resolverFor(config),
    log,
    quietMs: options.debounce,
    maxMs: options.debounceMax,
  });
  await agent.start();
  log.info({ inventory, policy: config.policy }, 'agent watching files');
  log.info({ signal: await stopSignal() }, 'agent stopping; the applied ruleset stays');
  agent.close();
}

async function runFleetAgent({ options, ctx, log, metrics, measured, stopSignal }: Parts, inventory: string): Promise<void> {
  if (options.policy !== undefined) throw new UsageError('in fleet mode the policy comes from etcd: push it with `palisade push`, do not pass --policy');
  const location = parseEtcdUrl(inventory);
  const declared = overrideFacts(await readFactsFile(options.facts), options);
  const controlPlane = await controlPlaneOf(location.endpoints, options.etcdPeerPort);
  const client = connectEtcd(location, options);
  const agent = new EtcdAgent({
    host: options.host,
    client,
    keys: fleetKeys(location.prefix),
    source: inventory,
    ttlSeconds: options.ttl,
    graceSeconds: options.grace,
    driftIntervalMs: options.driftInterval * 1000,
    facts: (policyUsers) => gatherFacts({ name: options.host, target: ctx.target, declared, policyUsers }),
    applier: measured(confirmingApplier(ctx, options.backend, { reachable: () => reachesAny(location.endpoints), windowMs: options.confirmWindow * 1000 })),
    resolver: options.resolve === false ? new StaticResolver({}) : new SystemResolver(),
    ...(options.etcdFailsafe === false ? {} : { controlPlane }),
    log,
    quietMs: options.debounce,
    maxMs: options.debounceMax,
    flowLogs: options.flowsFrom ?? [],
    flowsIntervalMs: options.flowsInterval * 1000,
    counters: () => backendFor(options.backend, ctx.target).counters(),
    countersIntervalMs: options.countersInterval * 1000,
    ...(metrics === null ? {} : { metrics }),
  });
  const stopped = stopSignal();
  const started = agent.start().then(() => log.info({ inventory, ttl: options.ttl }, 'agent registered and watching'));
  const signal = await Promise.race([stopped, started.then(() => stopped)]);
  const leave = options.leaveOnStop === true;
  log.info({ signal, leave }, leave ? 'agent stopping and leaving the fleet; the applied ruleset stays' : 'agent stopping; the applied ruleset stays, the host stays a member for the grace period');
  await agent.close(leave);
  client.close();
}
