/**
 * Issue 15 item 6: 100,000 hosts of fleet traffic through a real etcd (one member), once with the agents connected
 * directly and once through `etcd grpc-proxy`. The fleet's keys are written first as the fleet writes them
 * (registration; observation, one address claim and liveness on leases), in batched transactions. Then, per run:
 * - N watching agents (1,000 by default, PALISADE_SIM_AGENTS): each holds the agent's watch (the range FleetWatch
 *   watches) and counts what it receives; they share worker processes and gRPC connections. They carry the
 *   fan-out, not the agents' work;
 * - in the direct run, two full agents (EtcdAgent: snapshot of the whole fleet, validated view, incremental ruleset,
 *   status writes), each alone in a process, with a recording applier (no render, no nft): an `app` host, to which
 *   every app host's change is relevant, and a `worker` host, to which no change is;
 * - a churn of 10 host changes per second (PALISADE_SIM_RATE) for 30 s (PALISADE_SIM_SECONDS): joins of new hosts
 *   (registration, then Membership.publish as the agent does) and leaves of loaded hosts, half of them app hosts.
 * Figures: etcd's own counters (/metrics: raft proposals committed, watch events sent, watchers), what the watching
 * agents received and when, the full agents' CPU per change and join → applied p50/p99, etcd's RSS and database size.
 * Run alone: `node --import tsx bench/fleet-sim.ts`; PALISADE_SIM_HOSTS scales the fleet.
 */
import './palisade-v8.ts';
import { fork, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Etcd3, Watcher } from 'etcd3';
import type { AppliedResult, Applier } from '../src/agent/applier.ts';
import { EtcdAgent } from '../src/agent/etcd-agent.ts';
import { hashRuleset } from '../src/apply/state.ts';
import { silentLogger } from '../src/agent/logger.ts';
import type { Ruleset } from '../src/compile/ir.ts';
import { connectEtcd } from '../src/fleet/client.ts';
import { fleetKeys, type Keys } from '../src/fleet/keys.ts';
import { encodePolicy } from '../src/fleet/policy-record.ts';
import { Membership } from '../src/fleet/register.ts';
import { parseEtcdUrl } from '../src/fleet/url.ts';
import { canonicalJson } from '../src/inventory/revision.ts';
import { StaticResolver } from '../src/resolve/resolver.ts';
import { startEtcd, startGrpcProxy, type EtcdCluster, type EtcdProxy } from '../test/helpers/etcd.ts';
import { machineLoad, percentile } from './stats.ts';
import { hostAddress } from './fleet.ts';

const env = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const HOSTS = env('PALISADE_SIM_HOSTS', 100_000);
const AGENTS = env('PALISADE_SIM_AGENTS', 1000);
const SECONDS = env('PALISADE_SIM_SECONDS', 30);
const RATE = env('PALISADE_SIM_RATE', 10);
const WATCH_WORKERS = 2;
const CLIENTS_PER_WORKER = 10;
/** Before the churn: how long the full agents' idle CPU is measured (keepalives, timers). */
const IDLE_MS = 5000;
/** After the churn: how long every change may take to reach everyone before the run reports what it has. */
const DRAIN_MS = 30_000;
const PREFIX = '/sim';
/** Operations per loading transaction (the simulation's etcd runs with --max-txn-ops to allow it; the default is 128). */
const TXN_OPS = 480;

const POLICY = `settings: { input_drop: true, output_drop: false }
rules:
  App from app:
    on: roles:app
    direction: in
    protocol: tcp
    source: roles:app
    dport: 8080
  DB from app:
    on: roles:db
    direction: in
    protocol: tcp
    source: roles:app
    dport: 5432
  Web from lb:
    on: roles:web
    direction: in
    protocol: tcp
    source: roles:lb
    dport: 443
  SSH from bastions:
    direction: in
    protocol: tcp
    source: roles:bastion
    dport: 22
  Monitoring:
    direction: in
    protocol: tcp
    source: 10.9.0.0/16
    dport: 9100
`;

/** Roles of the generated fleet: 10 % app, 5 % db, 30 % web, 1 % lb, 0.1 % bastion, the rest worker. */
function roleOf(i: number): string {
  const r = i % 1000;
  if (r === 999) return 'bastion';
  if (r < 100) return 'app';
  if (r < 150) return 'db';
  if (r < 450) return 'web';
  if (r < 460) return 'lb';
  return 'worker';
}
/** Churned hosts live in 10.150+ (10.150 for the direct run, 10.151 through the proxy). */
const churnAddress = (run: number, k: number): string => `10.${150 + run}.${(k >> 8) & 255}.${k & 255}`;
const CHURN_NET = (run: number): string => `10.${150 + run}.`;
const registration = (name: string, role: string): string => JSON.stringify({ name, roles: [role], networks: ['10.0.0.0/8'], lan: 'eth0' });
const observation = (name: string, address: string): string => canonicalJson({ name, interfaces: { eth0: [address] }, lan: 'eth0' });
const now = (): number => performance.timeOrigin + performance.now();

/* ---------- worker processes ---------- */

type WorkerConfig = { kind: 'watchers'; url: string; watchers: number; clients: number; churnNet: string } | { kind: 'agent'; url: string; index: number; track: string[] };

interface WatchReport {
  events: number;
  bytes: number;
  /** Churned keys: `put <key>` / `delete <key>` -> when the last of this process's watchers received it. */
  arrivals: Record<string, number>;
}

interface AgentReport {
  /** Changes of the churned hosts' addresses in the applied rulesets: [address, when, present]. */
  applied: Array<[string, number, boolean]>;
  counts: { compiles: number; updates: number; dropped: number };
  events: number;
  statusWrites: number;
}

interface Usage {
  cpuMs: number;
  rssMb: number;
}

const usage = (): Usage => {
  const { user, system } = process.cpuUsage();
  return { cpuMs: (user + system) / 1000, rssMb: process.memoryUsage().rss / 2 ** 20 };
};

async function watchers(config: Extract<WorkerConfig, { kind: 'watchers' }>): Promise<{ report: () => WatchReport; close: () => Promise<void> }> {
  const location = parseEtcdUrl(config.url);
  const keys = fleetKeys(location.prefix);
  const clients = Array.from({ length: config.clients }, () => connectEtcd(location));
  const result: WatchReport = { events: 0, bytes: 0, arrivals: {} };
  const seen = (what: string, key: Buffer, value: Buffer): void => {
    result.events++;
    result.bytes += key.length + value.length;
    const text = key.toString();
    if (text.includes(config.churnNet) || text.includes('/hosts/c')) result.arrivals[`${what} ${text}`] = now();
  };
  const all: Watcher[] = [];
  for (let i = 0; i < config.watchers; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, config.watchers - i) }, (_, k) =>
        (clients[(i + k) % clients.length] as Etcd3).watch().inRange({ start: keys.hosts, end: `${keys.candidate}\0` }).create(),
      ),
    );
    for (const w of batch) {
      w.on('put', (kv) => seen('put', kv.key, kv.value));
      w.on('delete', (kv) => seen('delete', kv.key, kv.value));
    }
    all.push(...batch);
  }
  return {
    report: () => {
      const out = { ...result, arrivals: result.arrivals };
      result.events = 0;
      result.bytes = 0;
      result.arrivals = {};
      return out;
    },
    close: async () => {
      await Promise.all(all.map((w) => w.cancel().catch(() => undefined)));
      for (const c of clients) c.close();
    },
  };
}

async function agent(config: Extract<WorkerConfig, { kind: 'agent' }>): Promise<{ startMs: number; report: () => AgentReport; close: () => Promise<void> }> {
  const location = parseEtcdUrl(config.url);
  const keys = fleetKeys(location.prefix);
  const client = connectEtcd(location);
  const applied: Array<[string, number, boolean]> = [];
  const track = new Set(config.track);
  let held = new Set<string>();
  let first: (() => void) | null = null;
  const ready = new Promise<void>((resolve) => (first = resolve));
  /* Records what the kernel would hold; notes when a churned address enters or leaves it. */
  const applier: Applier = {
    async apply(ruleset: Ruleset): Promise<AppliedResult> {
      const at = now();
      const next = new Set<string>();
      for (const set of ruleset.sets) for (const e of set.elements) if (track.has(e)) next.add(e);
      for (const a of next) if (!held.has(a)) applied.push([a, at, true]);
      for (const a of held) if (!next.has(a)) applied.push([a, at, false]);
      held = next;
      const mode = first === null ? 'membership' : 'full';
      first?.();
      first = null;
      return { mode, hash: hashRuleset(ruleset), warnings: [], drifted: false };
    },
  };
  const i = config.index;
  const started = performance.now();
  const member = new EtcdAgent({
    host: `h${i}`,
    client,
    keys,
    source: config.url,
    ttlSeconds: 60,
    facts: async () => ({ name: `h${i}`, interfaces: { eth0: [hostAddress(i)] }, lan: 'eth0' }),
    applier,
    resolver: new StaticResolver({}),
    log: silentLogger(),
  });
  await member.start();
  await ready;
  const startMs = performance.now() - started;
  const counts = () => ({ ...member.loop.counts });
  let base = { counts: counts(), events: member.events, writes: member.status.writes };
  return {
    startMs,
    report: () => {
      const c = counts();
      const out: AgentReport = {
        applied: applied.splice(0),
        counts: { compiles: c.compiles - base.counts.compiles, updates: c.updates - base.counts.updates, dropped: c.dropped - base.counts.dropped },
        events: member.events - base.events,
        statusWrites: member.status.writes - base.writes,
      };
      base = { counts: c, events: member.events, writes: member.status.writes };
      return out;
    },
    close: async () => {
      await member.close();
      client.close();
    },
  };
}

/** A worker: started with its config, answers `report` and `usage`, closes on `stop`. */
async function workerMain(): Promise<void> {
  const config = JSON.parse(process.argv[3] as string) as WorkerConfig;
  const send = (message: unknown): void => void process.send?.(message);
  /* The driver gone (interrupted, failed): so is this worker, even while it starts. */
  process.on('disconnect', () => process.exit(0));
  const started = usage();
  const running = config.kind === 'watchers' ? { startMs: 0, ...(await watchers(config)) } : await agent(config);
  send({ type: 'ready', startMs: running.startMs, startCpuMs: usage().cpuMs - started.cpuMs });
  process.on('message', (message: { type: string }) => {
    if (message.type === 'report') send({ type: 'report', report: running.report(), usage: usage() });
    else if (message.type === 'usage') send({ type: 'usage', usage: usage() });
    else if (message.type === 'stop') void running.close().finally(() => process.exit(0));
  });
}

/* ---------- the driver ---------- */

class Worker {
  private readonly waiting = new Map<string, { resolve: (message: Record<string, unknown>) => void; reject: (cause: Error) => void }>();
  readonly exited: Promise<void>;

  constructor(readonly child: ChildProcess) {
    child.on('message', (message: Record<string, unknown>) => {
      const waiter = this.waiting.get(message['type'] as string);
      this.waiting.delete(message['type'] as string);
      waiter?.resolve(message);
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        for (const [type, waiter] of this.waiting) waiter.reject(new Error(`fleet-sim worker ${child.pid} exited (${code}) before ${type}`));
        this.waiting.clear();
        resolve();
      }),
    );
  }

  static start(config: WorkerConfig): Worker {
    return new Worker(fork(fileURLToPath(import.meta.url), ['worker', JSON.stringify(config)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
  }

  next<T>(type: string, timeoutMs = 300_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fleet-sim worker ${this.child.pid}: no ${type} within ${timeoutMs / 1000} s`)), timeoutMs);
      this.waiting.set(type, {
        resolve: (message) => {
          clearTimeout(timer);
          resolve(message as T);
        },
        reject: (cause) => {
          clearTimeout(timer);
          reject(cause);
        },
      });
    });
  }

  ask<T>(type: string): Promise<T> {
    const answer = this.next<T>(type, 60_000);
    this.child.send({ type });
    return answer;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.send({ type: 'stop' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

type Metrics = Map<string, number>;

async function scrape(endpoint: string): Promise<Metrics> {
  const text = await (await fetch(`http://${endpoint}/metrics`)).text();
  const metrics: Metrics = new Map();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const space = line.lastIndexOf(' ');
    metrics.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return metrics;
}
const delta = (after: Metrics, before: Metrics, name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0);

/** etcd on a loaded machine may time a request out ("request timed out"): tried again, up to 5 times. */
async function retried<T>(operation: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (cause) {
      if (attempt === 5) throw cause;
      await sleep(500 * attempt);
    }
  }
}

/** The fleet as it stands before any agent starts: every host registered, observed and claiming its address. */
async function preload(client: Etcd3, keys: Keys): Promise<number> {
  const started = performance.now();
  await client.put(keys.policy).value(encodePolicy([{ path: 'policy.yaml', text: POLICY }]));
  /* Membership and liveness leases shared by 1,000 hosts each: the keys are the fleet's; its 200,000 leases' keepalives are not simulated. */
  const leases = await Promise.all(Array.from({ length: Math.ceil(HOSTS / 1000) * 2 }, () => client.lease(3600, { autoKeepAlive: false }).grant()));
  const batches: Array<() => Promise<unknown>> = [];
  for (let i = 0; i < HOSTS; i += TXN_OPS) {
    const from = i;
    batches.push(() =>
      client
        .if(keys.policy, 'Mod', '>', -1)
        .then(...Array.from({ length: Math.min(TXN_OPS, HOSTS - from) }, (_, k) => client.put(keys.host(`h${from + k}`)).value(registration(`h${from + k}`, roleOf(from + k)))))
        .commit(),
    );
  }
  const perTxn = Math.floor(TXN_OPS / 3);
  for (let i = 0; i < HOSTS; i += perTxn) {
    const from = i;
    batches.push(() =>
      client
        .if(keys.policy, 'Mod', '>', -1)
        .then(
          ...Array.from({ length: Math.min(perTxn, HOSTS - from) }, (_, k) => {
            const n = from + k;
            const [member, alive] = [leases[2 * Math.floor(n / 1000)] as string, leases[2 * Math.floor(n / 1000) + 1] as string];
            return [
              client.put(keys.member(`h${n}`)).value(observation(`h${n}`, hostAddress(n))).lease(member),
              client.put(keys.claim(`h${n}`, hostAddress(n))).value('').lease(member),
              client.put(keys.aliveOf(`h${n}`)).value(new Date().toISOString()).lease(alive),
            ];
          }).flat(),
        )
        .commit(),
    );
  }
  /* Several transactions in flight at once, as many agents registering together would have. */
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < batches.length) await retried(batches[next++] as () => Promise<unknown>);
    }),
  );
  return performance.now() - started;
}

interface Change {
  kind: 'join' | 'leave';
  name: string;
  address: string;
  app: boolean;
}

/**
 * What the churn does, second by second: joins of new hosts (`c<run>-<k>`, in 10.150+run) and leaves of hosts of the
 * loaded fleet, alternately; every other one of each an app host.
 */
function plan(run: number): Change[] {
  const blocks = Math.max(1, Math.floor(HOSTS / 1000) - 1);
  return Array.from({ length: Math.round(SECONDS * RATE) }, (_, t): Change => {
    const m = t >> 1;
    const app = m % 2 === 0;
    if (t % 2 === 0) return { kind: 'join', name: `c${run}-${m}`, address: churnAddress(run, m), app };
    /* h<block>001+run are app hosts, h<block>500+run workers (roleOf); never the full agents' h0 and h460. */
    const index = 1000 * (1 + ((m >> 1) % blocks)) + (app ? 1 + run : 500 + run);
    return { kind: 'leave', name: `h${index}`, address: hostAddress(index), app };
  });
}

/**
 * Runs the plan at RATE changes a second (each change started on time, whatever the previous ones take). A join is
 * what an agent does: the admin's registration, then Membership.publish (two lease grants, one transaction). A leave
 * deletes the host's observation, claim and liveness in one transaction, as the revocation of its lease would.
 * Returns when each change was sent, and the joined hosts' memberships (to leave once measured).
 */
async function churn(client: Etcd3, keys: Keys, changes: Change[]): Promise<{ sentAt: number[]; joined: Membership[]; writes: number }> {
  const log = silentLogger();
  const sentAt: number[] = [];
  const joined: Membership[] = [];
  const inFlight: Array<Promise<unknown>> = [];
  let writes = 0;
  const start = performance.now();
  for (const [t, change] of changes.entries()) {
    const wait = start + (t * 1000) / RATE - performance.now();
    if (wait > 0) await sleep(wait);
    const { name, address } = change;
    if (change.kind === 'join') {
      inFlight.push(
        (async () => {
          await retried(() => client.put(keys.host(name)).value(registration(name, change.app ? 'app' : 'worker')).exec());
          const membership = new Membership(client, keys, name, 60, 300, log);
          joined.push(membership);
          sentAt[t] = now();
          await membership.publish({ text: observation(name, address), addresses: [address] });
          writes += 4;
        })(),
      );
    } else {
      sentAt[t] = now();
      inFlight.push(
        retried(() =>
          client
            .if(keys.member(name), 'Mod', '>', -1)
            .then(client.delete().key(keys.member(name)), client.delete().key(keys.claim(name, address)), client.delete().key(keys.aliveOf(name)))
            .commit(),
        ).then(() => writes++),
      );
    }
  }
  await Promise.all(inFlight);
  return { sentAt, joined, writes };
}

/** What the two full agents measured (direct run only). */
interface FullAgents {
  /** Join (leave) of an app host -> the app agent applied a ruleset with (without) its address, ms. */
  appliedMs: number[];
  missing: number;
  /** CPU per host change (ms): relevant (app agent, app hosts) and irrelevant (worker agent, every change). */
  relevantCpuMs: number;
  irrelevantCpuMs: number;
  startS: number;
  startCpuS: number;
  rssMb: number;
  app: AgentReport['counts'];
  worker: AgentReport['counts'];
  statusWrites: number;
}

interface RunResult {
  mode: 'direct' | 'grpc-proxy';
  changes: number;
  /** Proposals raft committed during the window (the churn and what it caused), and the writes the simulation counted. */
  raftWrites: number;
  countedWrites: number;
  /** Watch events etcd sent (to the agents, or to the proxy). */
  upstreamEvents: number;
  /** Watch events the N watching agents received. */
  deliveredEvents: number;
  deliveredMb: number;
  etcdWatchers: number;
  /** Join -> the last watching agent received the claim, ms. */
  fanoutMs: number[];
  watchCpuUsPerEvent: number;
  full: FullAgents | null;
}

const sum = <T>(list: readonly T[], f: (x: T) => number): number => list.reduce((n, x) => n + f(x), 0);

/** One run: the watching agents (and, with `full`, the two full agents) connected directly or through a proxy, the churn, the counters. */
async function simulate(etcd: EtcdCluster, mode: RunResult['mode'], run: number, full: boolean): Promise<RunResult> {
  let proxy: EtcdProxy | null = null;
  const workers: Worker[] = [];
  try {
    proxy = mode === 'grpc-proxy' ? await startGrpcProxy(etcd) : null;
    const url = proxy === null ? etcd.url(PREFIX) : proxy.url(PREFIX);
    const changes = plan(run);
    const perWorker = Math.ceil(AGENTS / WATCH_WORKERS);
    const watchWorkers = Array.from({ length: WATCH_WORKERS }, (_, w) =>
      Worker.start({ kind: 'watchers', url, watchers: Math.min(perWorker, AGENTS - w * perWorker), clients: CLIENTS_PER_WORKER, churnNet: CHURN_NET(run) }),
    );
    /* h0 is an app host, h460 a worker (roleOf). */
    const agents = full ? [0, 460].map((index) => Worker.start({ kind: 'agent', url, index, track: changes.map((c) => c.address) })) : [];
    workers.push(...watchWorkers, ...agents);
    const ready = await Promise.all(workers.map((w) => w.next<{ startMs: number; startCpuMs: number }>('ready')));
    for (const w of workers) await w.ask('report');

    type Used = { usage: Usage };
    const idle0 = await Promise.all(agents.map((w) => w.ask<Used>('usage')));
    if (full) await sleep(IDLE_MS);
    const idle1 = await Promise.all(agents.map((w) => w.ask<Used>('usage')));
    const idleRate = idle1.map((u, i) => (u.usage.cpuMs - (idle0[i] as Used).usage.cpuMs) / IDLE_MS);

    const client = connectEtcd(parseEtcdUrl(url));
    const keys = fleetKeys(PREFIX);
    const metrics0 = await scrape(etcd.endpoints[0] as string);
    const watch0 = await Promise.all(watchWorkers.map((w) => w.ask<Used>('usage')));
    const started = performance.now();
    const { sentAt, joined, writes } = await churn(client, keys, changes);
    /* Until the app agent applied every app change and the watchers saw every join, or the drain deadline. */
    const appChanges = changes.flatMap((c, t) => (c.app ? [{ ...c, at: sentAt[t] as number }] : []));
    const appliedAt = new Map<string, number>();
    const arrivals = new Map<string, number>();
    const reports: AgentReport[][] = agents.map(() => []);
    const deadline = performance.now() + DRAIN_MS;
    let delivered = 0;
    let deliveredBytes = 0;
    let watchUsage: Usage[] = [];
    for (;;) {
      await sleep(1000);
      const agentReports = await Promise.all(agents.map((x) => x.ask<{ report: AgentReport }>('report')));
      agentReports.forEach(({ report }, i) => (reports[i] as AgentReport[]).push(report));
      for (const [address, at, present] of agentReports[0]?.report.applied ?? []) appliedAt.set(`${present ? 'join' : 'leave'} ${address}`, at);
      const watched = await Promise.all(watchWorkers.map((x) => x.ask<{ report: WatchReport; usage: Usage }>('report')));
      watchUsage = watched.map((x) => x.usage);
      for (const { report } of watched) {
        delivered += report.events;
        deliveredBytes += report.bytes;
        for (const [key, at] of Object.entries(report.arrivals)) arrivals.set(key, Math.max(at, arrivals.get(key) ?? 0));
      }
      const joinsSeen = changes.every((c) => c.kind === 'leave' || arrivals.has(`put ${keys.claim(c.name, c.address)}`));
      const applied = !full || appChanges.every((c) => appliedAt.has(`${c.kind} ${c.address}`));
      if ((applied && joinsSeen) || performance.now() > deadline) break;
    }
    const windowMs = performance.now() - started;
    const metrics1 = await scrape(etcd.endpoints[0] as string);
    const ended = await Promise.all(agents.map((x) => x.ask<Used>('usage')));
    /* Measured: the joined hosts leave (their leases would otherwise expire during the next run). */
    await Promise.all(joined.map((m) => m.leave()));
    client.close();

    const fanoutMs = changes.flatMap((c, t) => {
      const at = arrivals.get(`put ${keys.claim(c.name, c.address)}`);
      return c.kind === 'leave' || at === undefined ? [] : [at - (sentAt[t] as number)];
    });
    let fullAgents: FullAgents | null = null;
    if (full) {
      /* CPU during the window, less what the same process spends idle (keepalives, timers) over as long. */
      const busy = (i: number): number => (ended[i] as Used).usage.cpuMs - (idle1[i] as Used).usage.cpuMs - (idleRate[i] as number) * windowMs;
      const counts = (list: AgentReport[]) => ({ compiles: sum(list, (r) => r.counts.compiles), updates: sum(list, (r) => r.counts.updates), dropped: sum(list, (r) => r.counts.dropped) });
      /* The worker agent: every change is irrelevant. The app agent: the worker hosts' changes are, the app hosts' are not. */
      const irrelevantCpuMs = busy(1) / changes.length;
      const relevantCpuMs = (busy(0) - (changes.length - appChanges.length) * irrelevantCpuMs) / Math.max(1, appChanges.length);
      const appliedMs = appChanges.flatMap((c) => {
        const at = appliedAt.get(`${c.kind} ${c.address}`);
        return at === undefined ? [] : [at - c.at];
      });
      const startedAgents = ready.slice(WATCH_WORKERS);
      fullAgents = {
        appliedMs,
        missing: appChanges.length - appliedMs.length,
        relevantCpuMs,
        irrelevantCpuMs,
        startS: Math.max(...startedAgents.map((r) => r.startMs)) / 1000,
        startCpuS: Math.max(...startedAgents.map((r) => r.startCpuMs)) / 1000,
        rssMb: Math.max(...ended.map((u) => u.usage.rssMb)),
        app: counts(reports[0] as AgentReport[]),
        worker: counts(reports[1] as AgentReport[]),
        statusWrites: sum(reports.flat(), (r) => r.statusWrites),
      };
    }
    return {
      mode,
      changes: changes.length,
      raftWrites: delta(metrics1, metrics0, 'etcd_server_proposals_committed_total'),
      countedWrites: writes,
      upstreamEvents: delta(metrics1, metrics0, 'etcd_debugging_mvcc_events_total'),
      deliveredEvents: delivered,
      deliveredMb: deliveredBytes / 2 ** 20,
      etcdWatchers: metrics1.get('etcd_debugging_mvcc_watcher_total') ?? 0,
      fanoutMs,
      watchCpuUsPerEvent: delivered === 0 ? 0 : ((sum(watchUsage, (u) => u.cpuMs) - sum(watch0, (u) => u.usage.cpuMs)) * 1000) / delivered,
      full: fullAgents,
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await proxy?.close();
  }
}

export async function benchFleetSim(): Promise<string> {
  const etcd = await startEtcd({ flags: ['--quota-backend-bytes', String(8 * 2 ** 30), '--max-txn-ops', String(TXN_OPS)] });
  /* Interrupted: etcd stopped and its data removed (workers exit when the driver goes, the proxy is killed on exit). */
  const interrupted = (): void => void etcd.close().finally(() => process.exit(130));
  process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
  const results: RunResult[] = [];
  let preloadMs = 0;
  let loaded: Metrics = new Map();
  let end: Metrics = new Map();
  try {
    const client = connectEtcd(parseEtcdUrl(etcd.url(PREFIX)));
    try {
      preloadMs = await preload(client, fleetKeys(PREFIX));
    } finally {
      client.close();
    }
    loaded = await scrape(etcd.endpoints[0] as string);
    results.push(await simulate(etcd, 'direct', 0, true));
    results.push(await simulate(etcd, 'grpc-proxy', 1, false));
    end = await scrape(etcd.endpoints[0] as string);
  } finally {
    process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
    await etcd.close();
  }
  return report(results, preloadMs, loaded, end);
}

function report(results: RunResult[], preloadMs: number, loaded: Metrics, end: Metrics): string {
  const mb = (bytes: number | undefined): string => ((bytes ?? 0) / 2 ** 20).toFixed(0);
  const ms = (values: number[], p: number): string => `${percentile(values, p).toFixed(0)}`;
  const int = (n: number): string => Math.round(n).toLocaleString('en-US');
  const rows = results.map((r) =>
    [
      r.mode,
      int(r.changes),
      `${int(r.raftWrites)} (${(r.raftWrites / r.changes).toFixed(1)} per change, ${(r.raftWrites / SECONDS).toFixed(0)}/s)`,
      int(r.etcdWatchers),
      int(r.upstreamEvents),
      `${int(r.deliveredEvents)} (${r.deliveredMb.toFixed(1)} MB)`,
      `${ms(r.fanoutMs, 50)} / ${ms(r.fanoutMs, 99)}`,
      `${r.watchCpuUsPerEvent.toFixed(0)} µs`,
    ].join(' | '),
  );
  const full = results.find((r) => r.full !== null)?.full ?? null;
  const counts = (c: AgentReport['counts']): string => `${c.updates} / ${c.dropped} / ${c.compiles}`;
  const direct = results[0] as RunResult;
  return [
    '## Fleet simulation (issue 15 item 6)',
    '',
    `${int(HOSTS)} hosts on a real etcd (one member, loopback): registrations, observations, address claims and liveness`,
    `written first in transactions of up to ${TXN_OPS} operations (${(preloadMs / 1000).toFixed(0)} s; etcd then ${mb(loaded.get('process_resident_memory_bytes'))} MB RSS,`,
    `database ${mb(loaded.get('etcd_mvcc_db_total_size_in_bytes'))} MB). Churn: ${RATE} host changes per second for ${SECONDS} s, joins of new hosts (registration, then`,
    'Membership.publish as the agent does it: two lease grants, one transaction) and leaves of loaded hosts (their',
    'observation, claim and liveness deleted in one transaction, as a lease revocation does), alternately; half of them',
    `app hosts. ${int(AGENTS)} watching agents hold the agent's watch and count what arrives (${WATCH_WORKERS} processes, ${CLIENTS_PER_WORKER} gRPC connections`,
    'each), connected directly, then through `etcd grpc-proxy`. Figures from etcd\'s /metrics (raft proposals committed,',
    'watch events sent, watchers) and from the agents.',
    '',
    '| agents connect | host changes | raft writes | watchers on etcd | watch events sent by etcd | received by the agents | join → every agent saw it, p50 / p99 (ms) | agent CPU per event received |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r} |`),
    '',
    ...(full === null
      ? []
      : [
          'Two full agents in the direct run, each alone in a process: EtcdAgent with its snapshot of the whole fleet, validated',
          'view, incremental ruleset and status writes; a recording applier (no render, no nft). `app` (h0): every app host\'s',
          'change is relevant to it; `worker` (h460): no change is. CPU per change: the process\'s CPU during the churn minus',
          'the same process idle, per host change (gRPC, parsing, GC included); relevant: the app agent\'s, less its share of',
          'irrelevant changes. The periodic drift check (every 60 s) is included: it compiles nothing.',
          '',
          '| full agent start (snapshot of the fleet, first compile) | RSS | app change → applied by the app agent, p50 / p99 | CPU per relevant change | per irrelevant change | app agent: updates / dropped / compiles | worker agent: the same | status writes |',
          '|---:|---:|---:|---:|---:|---:|---:|---:|',
          `| ${full.startS.toFixed(0)} s (${full.startCpuS.toFixed(1)} s CPU) | ${full.rssMb.toFixed(0)} MB | ${ms(full.appliedMs, 50)} / ${ms(full.appliedMs, 99)} ms${full.missing > 0 ? ` (${full.missing} never applied)` : ''} | ${full.relevantCpuMs.toFixed(2)} ms | ${full.irrelevantCpuMs.toFixed(2)} ms | ${counts(full.app)} | ${counts(full.worker)} | ${full.statusWrites} |`,
          '',
        ]),
    `etcd at the end: ${mb(end.get('process_resident_memory_bytes'))} MB RSS, database ${mb(end.get('etcd_mvcc_db_total_size_in_bytes'))} MB. Machine: ${machineLoad()}.`,
    `Writes counted by the simulation in the direct run: ${direct.countedWrites} (join 4, leave 1); raft writes also hold the`,
    "full agents' status writes. Each join is 3 watch events (registration, observation, claim), each leave 2.",
    'Simulated, not real: the watching agents only receive (no view, no compile); the loaded hosts\' lease keepalives',
    '(their keys sit on shared leases), their status keys and agents; one etcd member, not three; agents share',
    'processes and connections; the full agents load nothing into a kernel.',
  ].join('\n');
}

if (process.argv[2] === 'worker') await workerMain();
else if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${await benchFleetSim()}\n`);
