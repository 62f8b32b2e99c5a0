/**
 * Real etcd for the fleet tests: a 1- or 3-member cluster on loopback with random high ports and data in a
 * temp dir. Members can be stopped and started again (same data) to test faults; close() kills every
 * member and removes the dir, and is meant for an after() hook so it runs even when a test fails.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EtcdCluster {
  /** host:port of every member's client URL. */
  endpoints: string[];
  /** `etcd://` URL of the whole cluster with the given key prefix. */
  url(prefix?: string): string;
  stop(member: number): Promise<void>;
  start(member: number): Promise<void>;
  /** Runs etcdctl against the cluster, returns stdout; throws on failure. */
  ctl(args: readonly string[], input?: string): string;
  close(): Promise<void>;
}

export interface EtcdOptions {
  members?: 1 | 3;
  /** Extra flags for every member (e.g. TLS). */
  flags?: string[];
  /** Scheme of the client URLs. */
  scheme?: 'http' | 'https';
  /** Flags for etcdctl (e.g. --cacert). */
  ctlFlags?: string[];
  /** Run the members (and etcdctl) in this network namespace, listening on `host`. */
  netns?: string;
  /** Address the members listen on (default 127.0.0.1). */
  host?: string;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A member's port was taken between choosing it and etcd binding it (another suite on this machine): try other ports. */
class PortTaken extends Error {}

/** Attempts at a cluster on freshly chosen ports before giving up. */
const PORT_ATTEMPTS = 4;

/** `start` again, on freshly chosen ports, while a port it chose was taken. */
async function onFreePorts<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (cause) {
      if (!(cause instanceof PortTaken) || attempt >= PORT_ATTEMPTS) throw cause;
    }
  }
}

export function startEtcd(options: EtcdOptions = {}): Promise<EtcdCluster> {
  return onFreePorts(() => startEtcdOnce(options));
}

/**
 * Ports are chosen free, then bound by etcd a moment later: another copy of the suite may take one in
 * between. A member that exits before it is healthy, or an endpoint that answers for another cluster (its
 * member list does not hold this member's peer URL), is a PortTaken.
 */
async function startEtcdOnce(options: EtcdOptions): Promise<EtcdCluster> {
  const count = options.members ?? 1;
  const scheme = options.scheme ?? 'http';
  const dir = mkdtempSync(join(tmpdir(), 'palisade-etcd-'));
  const ports = await Promise.all(Array.from({ length: count * 2 }, freePort));
  const host = options.host ?? '127.0.0.1';
  /* A command, run in the members' namespace when there is one. */
  const inNs = (command: string, args: string[]): [string, string[]] => (options.netns === undefined ? [command, args] : ['ip', ['netns', 'exec', options.netns, command, ...args]]);
  const members = Array.from({ length: count }, (_, i) => ({ name: `m${i}`, client: ports[2 * i] as number, peer: ports[2 * i + 1] as number }));
  const initial = members.map((m) => `${m.name}=http://${host}:${m.peer}`).join(',');
  const processes: Array<ChildProcess | null> = members.map(() => null);
  const endpoints = members.map((m) => `${host}:${m.client}`);
  const ctlBase = ['--endpoints', endpoints.map((e) => `${scheme}://${e}`).join(','), '--dial-timeout', '1s', '--command-timeout', '3s', ...(options.ctlFlags ?? [])];

  const spawnMember = (i: number): void => {
    const m = members[i] as (typeof members)[number];
    const client = `${scheme}://${host}:${m.client}`;
    processes[i] = spawn(
      ...inNs('etcd', [
        '--name', m.name, '--data-dir', join(dir, m.name),
        '--listen-client-urls', client, '--advertise-client-urls', client,
        '--listen-peer-urls', `http://${host}:${m.peer}`, '--initial-advertise-peer-urls', `http://${host}:${m.peer}`,
        '--initial-cluster', initial, '--initial-cluster-state', 'new', '--initial-cluster-token', 'palisade-test',
        '--heartbeat-interval', '50', '--election-timeout', '500', '--log-level', 'error', '--logger', 'zap',
        ...(options.flags ?? []),
      ]),
      { stdio: 'ignore' },
    );
  };

  const healthy = async (i: number): Promise<void> => {
    const endpoint = `${scheme}://${endpoints[i]}`;
    const peer = `http://${host}:${members[i]?.peer}`;
    for (let attempt = 0; attempt < 200; attempt++) {
      const child = processes[i];
      if (child !== null && child !== undefined && (child.exitCode !== null || child.signalCode !== null)) throw new PortTaken(`etcd member ${i} exited before it was healthy (port taken?)`);
      const r = spawnSync(...inNs('etcdctl', [...ctlBase, '--endpoints', endpoint, 'endpoint', 'health']), { encoding: 'utf8' });
      if (r.status === 0) {
        const list = spawnSync(...inNs('etcdctl', [...ctlBase, '--endpoints', endpoint, 'member', 'list']), { encoding: 'utf8' });
        if (list.status === 0 && !list.stdout.includes(peer)) throw new PortTaken(`${endpoint} answers for another etcd cluster`);
        if (list.status === 0) return;
      }
      await sleep(100);
    }
    throw new Error(`etcd member ${i} did not become healthy on ${endpoint}`);
  };

  const stop = async (i: number): Promise<void> => {
    const child = processes[i];
    processes[i] = null;
    if (child === null || child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await gone;
  };

  /* A test run that dies without its after() hooks must not leave etcd running. */
  const killAll = (): void => processes.forEach((p) => p?.kill('SIGKILL'));
  process.once('exit', killAll);

  const cluster: EtcdCluster = {
    endpoints,
    url: (prefix = '/palisade') => `etcd://${endpoints.join(',')}${prefix}`,
    stop,
    async start(i) {
      spawnMember(i);
      await healthy(i);
    },
    ctl(args, input) {
      const r = spawnSync(...inNs('etcdctl', [...ctlBase, ...args]), { encoding: 'utf8', input });
      if (r.status !== 0) throw new Error(`etcdctl ${args.join(' ')} failed: ${r.stderr}`);
      return r.stdout;
    },
    async close() {
      process.off('exit', killAll);
      for (let i = 0; i < count; i++) await stop(i);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    members.forEach((_, i) => spawnMember(i));
    for (let i = 0; i < count; i++) await healthy(i);
  } catch (cause) {
    await cluster.close();
    throw cause;
  }
  return cluster;
}

export interface EtcdProxy {
  /** host:port agents connect to. */
  endpoint: string;
  /** `etcd://` URL through the proxy with the given key prefix. */
  url(prefix?: string): string;
  close(): Promise<void>;
}

/**
 * `etcd grpc-proxy start` in front of a cluster (plain http, loopback): the fan-out layer of large fleets, which
 * coalesces its clients' identical watches into one watch on the cluster (docs/fleet.md).
 */
export function startGrpcProxy(cluster: EtcdCluster): Promise<EtcdProxy> {
  return onFreePorts(() => startGrpcProxyOnce(cluster));
}

/** As startEtcdOnce: a proxy that exits before it answers lost its port; one that answers must be this one (its cluster's keys). */
async function startGrpcProxyOnce(cluster: EtcdCluster): Promise<EtcdProxy> {
  const port = await freePort();
  const endpoint = `127.0.0.1:${port}`;
  const child = spawn('etcd', ['grpc-proxy', 'start', '--endpoints', cluster.endpoints.join(','), '--listen-addr', endpoint, '--advertise-client-url', endpoint], { stdio: 'ignore' });
  const kill = (): void => void child.kill('SIGKILL');
  process.once('exit', kill);
  const close = async (): Promise<void> => {
    process.off('exit', kill);
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    kill();
    await gone;
  };
  const mark = `/health-probe/${process.pid}-${port}`;
  cluster.ctl(['put', mark, endpoint]);
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await close();
      throw new PortTaken(`etcd grpc-proxy exited before it answered on ${endpoint} (port taken?)`);
    }
    const r = spawnSync('etcdctl', ['--endpoints', `http://${endpoint}`, '--dial-timeout', '1s', '--command-timeout', '3s', 'get', '--print-value-only', mark], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim() === endpoint) return { endpoint, url: (prefix = '/palisade') => `etcd://${endpoint}${prefix}`, close };
    if (r.status === 0) {
      await close();
      throw new PortTaken(`${endpoint} answers for another etcd cluster`);
    }
    await sleep(100);
  }
  await close();
  throw new Error(`etcd grpc-proxy did not answer on ${endpoint}`);
}
