/**
 * `palisade agent --host H`: keeps this host's ruleset current. With `--inventory etcd://...` it runs in fleet
 * mode (src/agent/etcd-agent.ts: facts on a lease, policy from etcd); with a file inventory it watches the
 * files (src/agent/file-agent.ts). Runs until SIGTERM or SIGINT; stopping leaves the ruleset in place.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BackendName } from '../../kernel/backend.ts';
import { confirmingApplier, kernelApplier, type Applier } from '../../agent/applier.ts';
import { EtcdAgent } from '../../agent/etcd-agent.ts';
import { overrideFacts, readFactsFile } from '../../agent/facts-file.ts';
import { gatherFacts } from '../../agent/facts.ts';
import { FileAgent } from '../../agent/file-agent.ts';
import { createLogger } from '../../agent/logger.ts';
import { AgentMetrics, measuredApplier, serveMetrics } from '../../agent/metrics.ts';
import { backendFor } from '../../kernel/load.ts';
import { connectEtcd } from '../../fleet/client.ts';
import { controlPlaneOf } from '../../fleet/control-plane.ts';
import { reachesAny } from '../../fleet/reachable.ts';
import { fleetKeys } from '../../fleet/keys.ts';
import { isEtcdUrl, parseEtcdUrl } from '../../fleet/url.ts';
import { SystemResolver } from '../../resolve/dns.ts';
import { StaticResolver } from '../../resolve/resolver.ts';
import { loadConfig, type ConfigOverrides } from '../../app/config.ts';
import type { Output } from '../output.ts';
import { UsageError } from '../../diagnostics.ts';
import { resolverFor } from '../../app/workspace.ts';
import type { FleetOptions } from '../../app/fleet.ts';
import { hostContext, type HostOptions } from './host-options.ts';

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
  logLevel: string;
  metrics?: string;
}

/** Resolves on the first SIGTERM or SIGINT. */
function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: string): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

export async function agentCommand(options: AgentOptions, output: Output): Promise<number> {
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
  const measured = (applier: Applier): Applier => (metrics === null ? applier : measuredApplier(applier, metrics));
  const debounce = { quietMs: options.debounce, maxMs: options.debounceMax };
  const inventory = options.inventory ?? (await loadConfig(options)).inventory;
  if (!isEtcdUrl(inventory)) {
    if (options.flowsFrom !== undefined) throw new UsageError('--flows-from publishes to a fleet (--inventory etcd://...); on one host, read them with `palisade flows`');
    const config = await loadConfig({ ...options, inventory });
    const agent = new FileAgent({ host: options.host, config, applier: measured(kernelApplier(ctx, options.backend)), resolver: resolverFor(config), log, ...debounce });
    await agent.start();
    log.info({ inventory, policy: config.policy }, 'agent watching files');
    log.info({ signal: await stopSignal() }, 'agent stopping; the applied ruleset stays');
    agent.close();
    server?.close();
    return 0;
  }
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
    ...debounce,
    flowLogs: options.flowsFrom ?? [],
    flowsIntervalMs: options.flowsInterval * 1000,
    ...(metrics === null ? {} : { metrics }),
  });
  const stopped = stopSignal();
  const started = agent.start().then(() => log.info({ inventory, ttl: options.ttl }, 'agent registered and watching'));
  const signal = await Promise.race([stopped, started.then(() => stopped)]);
  log.info({ signal, leave: options.leaveOnStop === true }, options.leaveOnStop === true ? 'agent stopping and leaving the fleet; the applied ruleset stays' : 'agent stopping; the applied ruleset stays, the host stays a member for the grace period');
  await agent.close(options.leaveOnStop === true);
  client.close();
  server?.close();
  output.out(`agent ${options.host} stopped`);
  return 0;
}
