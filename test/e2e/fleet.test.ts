/**
 * Fleet mode end to end: a 3-member etcd cluster on loopback, four network namespaces on a bridge, one
 * `palisade agent` process per namespace (nft backend, applying inside its namespace), real TCP connections.
 * Everything (agents, probes, namespaces, etcd, temp dirs) is removed in after(), even on failure.
 *
 * It runs on a shared, loaded machine: every step waits on a condition with a generous deadline (DEADLINE),
 * never on a fixed sleep for something to happen; the fixed waits left are for what must NOT happen (a
 * firewall that stays as it was). Latencies are printed (the benchmark measures them), not asserted.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fleetKeys } from '../../src/fleet/keys.ts';
import { encodeRegistration } from '../../src/fleet/registry.ts';
import { addNamespace, deleteNamespace, ipBatch } from '../../src/lab/namespaces.ts';
import { runCli } from '../helpers/cli.ts';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.ts';
import { appFromClients } from '../helpers/fleet.ts';

const skip = process.getuid?.() === 0 ? false : 'needs root to create network namespaces (ip netns add)';
const BIN = join(import.meta.dirname, '../../bin/palisade.js');
const PORT = 8080;
const TTL = 2;
/** Membership outlives the agent this long (short here; five minutes by default), well beyond TTL so that "down but still a member" lasts seconds. */
const GRACE = 10;
/** How long any awaited condition may take on a loaded machine. */
const DEADLINE = 60_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const POLICY = appFromClients(PORT);

/** Runs in a client namespace: connects to every target every 50 ms until it succeeds, prints `ok HOST TIME`. */
const PROBE = `
const net = require('node:net');
const targets = process.argv.slice(1);
const pending = new Set(targets);
const tick = () => { for (const t of [...pending]) {
  const s = net.connect({ host: t, port: ${PORT}, timeout: 1000 });
  s.on('connect', () => { if (pending.delete(t)) console.log('ok ' + t + ' ' + Date.now()); s.destroy(); if (pending.size === 0) process.exit(0); });
  s.on('timeout', () => s.destroy()); s.on('error', () => s.destroy());
} };
setInterval(tick, 50); tick();`;

const SERVER = `require('node:net').createServer((s) => s.end()).listen(${PORT}, '0.0.0.0');`;

async function until<T>(what: string, check: () => T | null | false | Promise<T | null | false>, timeoutMs = DEADLINE): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value !== null && value !== false) return value;
    if (Date.now() - started > timeoutMs) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

describe('fleet mode on etcd, end to end', { skip }, () => {
  const tag = randomBytes(3).toString('hex');
  const subnet = randomInt(2, 250);
  const bridge = `pal-fl-${tag}-br`;
  const ns = (i: number): string => `pal-fl-${tag}-${i}`;
  const ip = (i: number): string => `10.232.${subnet}.${i + 1}`;
  const NAMES = ['app-1', 'app-2', 'client-1', 'client-2'];
  const ROLES = ['app', 'app', 'client', 'client'];
  const agents = new Map<number, ChildProcess>();
  const children: ChildProcess[] = [];
  const made: string[] = [];
  let etcd: EtcdCluster;
  let dir: string;
  let url: string;

  const listing = (i: number): string => spawnSync('ip', ['netns', 'exec', ns(i), 'nft', '-s', 'list', 'table', 'inet', 'palisade'], { encoding: 'utf8' }).stdout;
  const listings = (): string[] => [0, 1, 2, 3].map(listing);
  const logOf = (i: number): string => readFileSync(join(dir, `agent-${i}.log`), 'utf8');

  function startAgent(i: number): void {
    const log = openSync(join(dir, `agent-${i}.log`), 'a');
    const child = spawn(
      process.execPath,
      [BIN, 'agent', '--host', NAMES[i] as string, '--inventory', url, '--netns', ns(i), '--state-dir', join(dir, `state-${i}`), '--lan', 'eth0', '--ttl', String(TTL), '--grace', String(GRACE), '--no-resolve'],
      { stdio: ['ignore', log, log] },
    );
    agents.set(i, child);
  }

  async function stopAgent(i: number, signal: NodeJS.Signals): Promise<void> {
    const child = agents.get(i);
    agents.delete(i);
    if (child === undefined || child.exitCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await gone;
  }

  /** Starts a probe in namespace `from` towards `targets`; resolves with the time each target first accepted. */
  function probe(from: number, targets: string[]): Promise<Map<string, number>> {
    const child = spawn('ip', ['netns', 'exec', ns(from), process.execPath, '-e', PROBE, ...targets], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const accepted = new Map<string, number>();
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      for (const [, host, time] of d.matchAll(/ok (\S+) (\d+)/g)) accepted.set(host as string, Number(time));
    });
    return new Promise((resolve) => child.on('exit', () => resolve(accepted)));
  }

  const inSet = (i: number, address: string): boolean => listing(i).includes(address);
  const status = (name: string): Record<string, unknown> | null => {
    const out = etcd.ctl(['get', `/palisade/status/${name}`, '--print-value-only']).trim();
    return out === '' ? null : (JSON.parse(out) as Record<string, unknown>);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palisade-fleet-e2e-'));
    etcd = await startEtcd({ members: 3 });
    url = etcd.url();
    made.push(bridge);
    await addNamespace(bridge);
    await ipBatch(bridge, ['link set lo up', 'link add br0 type bridge', 'link set br0 up']);
    for (let i = 0; i < 4; i++) {
      made.push(ns(i));
      await addNamespace(ns(i));
      await ipBatch(bridge, [`link add v${i} type veth peer name eth0 netns ${ns(i)}`, `link set v${i} master br0`, `link set v${i} up`]);
      await ipBatch(ns(i), ['link set lo up', 'link set eth0 up', `addr add ${ip(i)}/24 dev eth0`]);
    }
    for (const i of [0, 1]) {
      const server = spawn('ip', ['netns', 'exec', ns(i), process.execPath, '-e', SERVER], { stdio: 'ignore' });
      children.push(server);
    }
    writeFileSync(join(dir, 'policy.yaml'), POLICY);
    /* The admin registers every host: its role and the network its agent may claim addresses in. */
    const keys = fleetKeys('/palisade');
    NAMES.forEach((name, i) => etcd.ctl(['put', keys.host(name), encodeRegistration(keys, { name, roles: [ROLES[i] as string], networks: [`10.232.${subnet}.0/24`] }).text]));
  });

  after(async () => {
    for (const i of [...agents.keys()]) await stopAgent(i, 'SIGKILL');
    for (const child of children) child.kill('SIGKILL');
    for (const name of made.reverse()) await deleteNamespace(name).catch(() => undefined);
    await etcd?.close();
    if (dir !== undefined && process.env.KEEP_FLEET_LOGS === undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('pushes the policy and the app agents apply it', async () => {
    const push = await runCli(['push', '--policy', join(dir, 'policy.yaml'), '--inventory', url]);
    assert.equal(push.code, 0, push.stderr);
    startAgent(0);
    startAgent(1);
    startAgent(3);
    await until('the agents to apply', () => [0, 1, 3].every((i) => listing(i).includes('table inet palisade')) && inSet(0, ip(3)));
  });

  it('a new client host joins: the app hosts accept its TCP connections once its observation is written', async () => {
    /* From the current revision on, so a watcher that starts late (a loaded machine) still sees the put. */
    const from = Number(JSON.parse(etcd.ctl(['get', '/palisade/policy', '-w', 'json'])).header.revision) + 1;
    const watcher = spawn('etcdctl', ['--endpoints', etcd.endpoints.join(','), 'watch', `--rev=${from}`, '/palisade/members/client-1'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.push(watcher);
    let joinedAt: number | null = null;
    watcher.stdout.once('data', () => (joinedAt = Date.now()));
    let times: Map<string, number> | null = null;
    void probe(2, [ip(0), ip(1)]).then((accepted) => (times = accepted));
    startAgent(2);
    const [at, accepted] = await until('client-1 to get through to both app hosts', () => joinedAt !== null && times !== null && ([joinedAt, times] as const));
    assert.deepEqual([...accepted.keys()].sort(), [ip(0), ip(1)].sort());
    const worst = Math.max(...[ip(0), ip(1)].map((t) => (accepted.get(t) as number) - at));
    console.log(`# join -> TCP accepted on both app hosts: ${worst} ms after the host key was written (bench/join.ts measures it)`);
  });

  it("a killed agent's address stays for the grace period, then leaves the other hosts' sets, and returns with it", async () => {
    await stopAgent(3, 'SIGKILL');
    const killed = Date.now();
    await until("client-2's liveness to expire", () => etcd.ctl(['get', fleetKeys('/palisade').aliveOf('client-2'), '--print-value-only']).trim() === '');
    assert.ok(inSet(0, ip(3)) && inSet(1, ip(3)), 'still a member after its liveness expired');
    await until('client-2 to leave app-1 and app-2', () => !inSet(0, ip(3)) && !inSet(1, ip(3)));
    console.log(`# agent killed -> address gone from the app hosts' sets: ${Date.now() - killed} ms (grace ${GRACE} s)`);
    startAgent(3);
    await until('client-2 to come back', () => inSet(0, ip(3)) && inSet(1, ip(3)));
  });

  it('an agent restart does not flap: applyRuleset reports the ruleset unchanged', async () => {
    const before = listing(0);
    await stopAgent(0, 'SIGTERM');
    const offset = logOf(0).length;
    startAgent(0);
    await until('the restarted agent to apply', () => logOf(0).slice(offset).includes('ruleset applied') && logOf(0).slice(offset));
    assert.match(logOf(0).slice(offset), /"mode":"unchanged"/);
    assert.equal(listing(0), before);
  });

  it('one etcd member down: nothing changes, agents keep converging', async () => {
    const before = listings();
    await etcd.stop(0);
    await sleep(1500);
    assert.deepEqual(listings(), before);
    const put = await runCli(['hosts', 'put', '--name', 'ext-1', '--address', '10.232.0.99', '--role', 'client', '--inventory', url]);
    assert.equal(put.code, 0, put.stderr);
    await until('the static host in the app sets', () => inSet(0, '10.232.0.99') && inSet(1, '10.232.0.99'));
    await etcd.start(0);
  });

  it('every etcd member down: firewalls unchanged; they converge when etcd is back', async () => {
    const before = listings();
    for (const m of [0, 1, 2]) await etcd.stop(m);
    await sleep(TTL * 1000 * 2 + 1000);
    assert.deepEqual(listings(), before, 'a firewall changed while etcd was down');
    for (const m of [0, 1, 2]) void etcd.start(m);
    await until('etcd to answer', () => runCli(['hosts', 'rm', 'ext-1', '--inventory', url]).then((r) => r.code === 0));
    const back = Date.now();
    await until('the removed host to leave the app sets', () => !inSet(0, '10.232.0.99') && !inSet(1, '10.232.0.99'));
    console.log(`# etcd back -> change converged: ${Date.now() - back} ms`);
    await until('every agent to report the current state', async () => {
      const r = await runCli(['fleet', 'status', '--inventory', url, '--format', 'json']);
      const hosts = JSON.parse(r.stdout).hosts as Array<{ state: string }>;
      return hosts.length === 4 && hosts.every((h) => h.state === 'ok');
    });
    assert.ok(status('app-1') !== null);
  });

  it('an invalid policy push is refused and changes nothing', async () => {
    const before = listings();
    writeFileSync(join(dir, 'bad.yaml'), 'rules:\n  Everything:\n    direction: in\n    source: 0.0.0.0/0\n    protocol: teleport\n');
    const push = await runCli(['push', '--policy', join(dir, 'bad.yaml'), '--inventory', url]);
    assert.equal(push.code, 1);
    await sleep(500);
    assert.deepEqual(listings(), before);
  });
});
