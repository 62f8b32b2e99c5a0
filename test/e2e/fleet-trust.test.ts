/**
 * Issue 9's findings replayed end to end, showing no harm: etcd runs in the bridge namespace, and each agent
 * runs inside its host's network namespace (so its own etcd traffic crosses the ruleset it applies, with
 * outbound dropped), real TCP connections decide. Everything is removed in after(), even on failure.
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
import { startEtcd, type EtcdCluster } from '../helpers/etcd.ts';

const skip = process.getuid?.() === 0 ? false : 'needs root to create network namespaces (ip netns add)';
const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/palisade.js');
const TTL = 2;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, check: () => T | null | false, timeoutMs: number): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = check();
    if (value !== null && value !== false) return value;
    if (Date.now() - started > timeoutMs) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** In namespace `ns`: does a new TCP connection to host:port (from `from`, if given) succeed within 2 s? */
const CONNECT = `const s = require('node:net').connect({ host: process.argv[1], port: Number(process.argv[2]), ...(process.argv[3] ? { localAddress: process.argv[3] } : {}), timeout: 2000 });
s.on('connect', () => process.exit(0)); s.on('timeout', () => process.exit(1)); s.on('error', () => process.exit(1));`;
const SERVER = `for (const p of process.argv.slice(1)) require('node:net').createServer((s) => s.end()).listen(Number(p), '0.0.0.0');`;

describe('fleet trust and safety (issue 9), end to end', { skip }, () => {
  const tag = randomBytes(3).toString('hex');
  const subnet = randomInt(2, 250);
  const bridge = `pal-ft-${tag}-br`;
  const NAMES = ['web-1', 'db-1', 'bastion-1'];
  const ROLES = ['web', 'db', 'bastion'];
  const ns = (i: number): string => `pal-ft-${tag}-${i}`;
  const ip = (i: number): string => `10.233.${subnet}.${i + 1}`;
  const ETCD_IP = `10.233.${subnet}.254`;
  const STOLEN = '203.0.113.66';
  const keys = fleetKeys('/palisade');
  const agents = new Map<number, ChildProcess>();
  const children: ChildProcess[] = [];
  const made: string[] = [];
  let etcd: EtcdCluster;
  let dir: string;
  let url: string;

  const listing = (i: number): string => spawnSync('ip', ['netns', 'exec', ns(i), 'nft', 'list', 'table', 'inet', 'palisade'], { encoding: 'utf8' }).stdout;
  const connects = (from: number, to: string, port: number, source?: string): boolean =>
    spawnSync('ip', ['netns', 'exec', ns(from), process.execPath, '-e', CONNECT, to, String(port), ...(source === undefined ? [] : [source])]).status === 0;
  /** The CLI, run in the bridge namespace (where etcd listens). */
  /** The mod revision of the policy key: what a write would change. */
  const policyRevision = (): number => (JSON.parse(etcd.ctl(['get', keys.policy, '-w', 'json'])) as { kvs: Array<{ mod_revision: number }> }).kvs[0]?.mod_revision ?? 0;
  const cli = (args: string[]): { code: number; stdout: string; stderr: string } => {
    const r = spawnSync('ip', ['netns', 'exec', bridge, process.execPath, BIN, ...args, '--inventory', url], { encoding: 'utf8', cwd: ROOT });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const report = (): { code: number; hosts: Record<string, string>; conflicts: Array<{ address: string; owner: string; loser: string }> } => {
    const r = cli(['fleet', 'status', '--format', 'json']);
    const json = JSON.parse(r.stdout) as { hosts: Array<{ host: string; state: string }>; conflicts: Array<{ address: string; owner: string; loser: string }> };
    return { code: r.code, hosts: Object.fromEntries(json.hosts.map((h) => [h.host, h.state])), conflicts: json.conflicts };
  };
  const logOf = (i: number): string => readFileSync(join(dir, `agent-${i}.log`), 'utf8');

  function startAgent(i: number, extra: string[] = []): void {
    const log = openSync(join(dir, `agent-${i}.log`), 'a');
    const args = [BIN, 'agent', '--host', NAMES[i] as string, '--inventory', url, '--state-dir', join(dir, `state-${i}`), '--lan', 'eth0', '--ttl', String(TTL), '--confirm-window', '5', '--no-resolve', ...extra];
    agents.set(i, spawn('ip', ['netns', 'exec', ns(i), process.execPath, ...args], { stdio: ['ignore', log, log] }));
  }

  async function stopAgent(i: number, signal: NodeJS.Signals): Promise<void> {
    const child = agents.get(i);
    agents.delete(i);
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await gone;
  }

  const policy = (failsafeIn: string): string => `settings: { input_drop: true, output_drop: true, input_drop_log: false, output_drop_log: false, failsafe: { in: ${failsafeIn}, out: [] } }
rules:
  SSH from bastion: { on: roles:bastion OR roles:db, direction: out, protocol: tcp, destination: roles:web, dport: 22 }
  SSH to web: { on: roles:web, direction: in, protocol: tcp, source: roles:bastion, dport: 22 }
  Web to db out: { on: roles:web, direction: out, protocol: tcp, destination: roles:db, dport: 5432 }
  Web to db in: { on: roles:db, direction: in, protocol: tcp, source: roles:web, dport: 5432 }
`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palisade-fleet-trust-'));
    made.push(bridge);
    await addNamespace(bridge);
    await ipBatch(bridge, ['link set lo up', 'link add br0 type bridge', 'link set br0 up', `addr add ${ETCD_IP}/24 dev br0`]);
    for (let i = 0; i < NAMES.length; i++) {
      made.push(ns(i));
      await addNamespace(ns(i));
      await ipBatch(bridge, [`link add v${i} type veth peer name eth0 netns ${ns(i)}`, `link set v${i} master br0`, `link set v${i} up`]);
      await ipBatch(ns(i), ['link set lo up', 'link set eth0 up', `addr add ${ip(i)}/24 dev eth0`]);
    }
    /* db-1 also holds an address outside its registered network, and web-1 can answer it. */
    await ipBatch(ns(1), [`addr add ${STOLEN}/32 dev eth0`]);
    await ipBatch(ns(0), [`route add ${STOLEN}/32 dev eth0`]);
    children.push(spawn('ip', ['netns', 'exec', ns(0), process.execPath, '-e', SERVER, '22'], { stdio: 'ignore' }));
    children.push(spawn('ip', ['netns', 'exec', ns(1), process.execPath, '-e', SERVER, '5432'], { stdio: 'ignore' }));
    etcd = await startEtcd({ netns: bridge, host: ETCD_IP });
    url = etcd.url();
    NAMES.forEach((name, i) => etcd.ctl(['put', keys.host(name), encodeRegistration(keys, { name, roles: [ROLES[i] as string], networks: [`10.233.${subnet}.0/24`], lan: 'eth0' }).text]));
    writeFileSync(join(dir, 'policy.yaml'), policy(`[{ protocol: tcp, dport: 22, source: [${ETCD_IP}/32] }]`));
    const push = cli(['push', '--policy', join(dir, 'policy.yaml')]);
    assert.equal(push.code, 0, push.stderr);
    for (let i = 0; i < NAMES.length; i++) startAgent(i);
    await until('every agent to apply with its peers', () => listing(0).includes(ip(2)) && listing(1).includes(ip(0)) && listing(2).includes(ip(0)), 90_000);
  });

  after(async () => {
    for (const i of [...agents.keys()]) await stopAgent(i, 'SIGKILL');
    for (const child of children) child.kill('SIGKILL');
    await etcd?.close();
    for (const name of made.reverse()) await deleteNamespace(name).catch(() => undefined);
    if (dir !== undefined && process.env.KEEP_FLEET_LOGS === undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('(1) an agent cannot give itself a role or an address: nothing opens', async () => {
    assert.ok(connects(2, ip(0), 22), 'the bastion reaches web-1:22');
    assert.ok(!connects(1, ip(0), 22, STOLEN), `${STOLEN} (observed by db-1, outside its network) does not`);
    etcd.ctl(['put', keys.member('db-1'), JSON.stringify({ name: 'db-1', roles: ['db', 'bastion'], interfaces: { eth0: [ip(1), STOLEN] } })]);
    etcd.ctl(['put', keys.claim('db-1', STOLEN), '']);
    const flood = Array.from({ length: 29_886 }, (_, k) => `10.${100 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`);
    etcd.ctl(['put', keys.member('evil')], JSON.stringify({ name: 'evil', interfaces: { eth0: flood } }));
    await until('web-1 to log the rejected keys', () => /roles/.test(logOf(0)) && /more than the 65536/.test(logOf(0)), 20_000);
    assert.ok(!listing(0).includes(STOLEN));
    assert.ok(!connects(1, ip(0), 22, STOLEN), 'the claimed address still gets nothing');
    assert.ok(!connects(1, ip(0), 22), 'nor does db-1 as a self-made bastion');
    etcd.ctl(['del', keys.member('evil')]);
  });

  it('(3) an agent whose key disappears registers again within its TTL', async () => {
    etcd.ctl(['del', keys.member('db-1'), '--prefix']);
    const deleted = Date.now();
    await until('members/db-1 to come back', () => etcd.ctl(['get', keys.member('db-1'), '--print-value-only']).trim() !== '', TTL * 1000 * 3);
    console.log(`# members/db-1 deleted -> back after ${Date.now() - deleted} ms`);
    await until('db-1 back in web-1 ruleset', () => listing(0).includes(ip(1)), 20_000);
  });

  it("(2) a newer claim cannot steal web-1's address: web-1 stays trusted, the conflict is reported", async () => {
    etcd.ctl(['put', keys.host('db-2'), encodeRegistration(keys, { name: 'db-2', roles: ['db'], networks: [`10.233.${subnet}.0/24`] }).text]);
    etcd.ctl(['put', keys.member('db-2'), JSON.stringify({ name: 'db-2', interfaces: { eth0: [ip(0)] } })]);
    etcd.ctl(['put', keys.claim('db-2', ip(0)), '']);
    try {
      await sleep(2000);
      assert.ok(listing(1).includes(ip(0)), "db-1's set still holds web-1");
      assert.ok(connects(0, ip(1), 5432), 'web-1 still reaches db-1');
      const r = report();
      assert.equal(r.code, 3);
      assert.deepEqual(r.conflicts, [{ address: ip(0), owner: 'web-1', pinned: false, loser: 'db-2' }]);
      assert.equal(r.hosts['db-2'], 'down', 'a member without a heartbeat');
    } finally {
      assert.equal(cli(['hosts', 'rm', 'db-2']).code, 0);
    }
  });

  it('(4) a dead agent keeps its healthy host reachable for the grace period; fleet status exits 3 meanwhile', async () => {
    await stopAgent(0, 'SIGKILL');
    const killed = Date.now();
    await until('fleet status to report web-1 down', () => report().hosts['web-1'] === 'down', (TTL + 10) * 1000);
    assert.equal(report().code, 3);
    while (Date.now() - killed < 30_000) {
      assert.ok(connects(2, ip(0), 22), `the bastion reaches web-1 ${Date.now() - killed} ms after its agent was killed`);
      assert.ok(listing(2).includes(ip(0)));
      await sleep(3000);
    }
    startAgent(0);
    await until('every host ok again', () => report().code === 0, 60_000);
  });

  it('(5) with the bundled shop policy, etcd killed and restarted: every agent reconnects and keeps its membership', async () => {
    const shop = ['examples/shop/policy.yaml', 'examples/shop/roles'].map((p) => join(ROOT, p));
    const push = cli(['push', '--policy', ...shop, '--dns', join(ROOT, 'examples/shop/dns.yaml')]);
    assert.equal(push.code, 0, push.stderr);
    await until('every agent to apply the shop policy', () => report().code === 0, 60_000);
    const leases = NAMES.map((name) => JSON.parse(etcd.ctl(['get', keys.member(name), '-w', 'json'])).kvs[0].lease as number);
    await etcd.stop(0);
    await sleep((TTL + 2) * 1000);
    await etcd.start(0);
    const back = Date.now();
    await until('every agent alive and ok again', () => report().code === 0, 60_000);
    console.log(`# etcd restarted -> every agent alive and ok after ${Date.now() - back} ms`);
    assert.deepEqual(NAMES.map((name) => JSON.parse(etcd.ctl(['get', keys.member(name), '-w', 'json'])).kvs[0].lease as number), leases, 'the same membership leases');
  });

  it('(6) push refuses a fleet-wide SSH lock-out and writes nothing', () => {
    writeFileSync(join(dir, 'lockout.yaml'), policy('[]'));
    const before = policyRevision();
    const push = cli(['push', '--policy', join(dir, 'lockout.yaml')]);
    assert.equal(push.code, 1);
    assert.match(push.stderr, /push refused: this policy would drop SSH from the admin network/);
    for (const name of ['db-1', 'bastion-1']) assert.match(push.stderr, new RegExp(name));
    assert.equal(policyRevision(), before);
  });
});
