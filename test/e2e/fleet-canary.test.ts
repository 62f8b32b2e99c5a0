/**
 * Canary rollout end to end (issue 9): six agents inside their namespaces, etcd on the bridge. The two canaries
 * run without the automatic etcd failsafe (the test-only --no-etcd-failsafe), so a policy that drops outbound
 * traffic cuts them from etcd: they roll back by themselves, the rollout fails and the other four hosts never
 * see the policy. A good policy is promoted to all six. A policy that makes a canary drop what a peer keeps
 * sending is rolled back by the drop-rate gate. Everything is removed in after(), even on failure.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
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
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

const policy = (outputDrop: boolean, port: number): string => `settings: { input_drop: true, output_drop: ${outputDrop}, input_drop_log: false, output_drop_log: false }
rules:
  App: { on: roles:app, direction: in, protocol: tcp, source: roles:app, dport: ${port} }
`;

describe('canary rollout with automatic rollback, end to end', { skip }, () => {
  const tag = randomBytes(3).toString('hex');
  const subnet = randomInt(2, 250);
  const bridge = `pal-fc-${tag}-br`;
  const COUNT = 6;
  const name = (i: number): string => `h-${i + 1}`;
  const ns = (i: number): string => `pal-fc-${tag}-${i}`;
  const ip = (i: number): string => `10.234.${subnet}.${i + 1}`;
  const ETCD_IP = `10.234.${subnet}.254`;
  const CANARIES = [0, 1];
  const keys = fleetKeys('/palisade');
  const agents: ChildProcess[] = [];
  const made: string[] = [];
  let etcd: EtcdCluster;
  let dir: string;
  let url: string;

  /** The mod revision of the policy key: what a write would change. */
  const policyRevision = (): number => (JSON.parse(etcd.ctl(['get', keys.policy, '-w', 'json'])) as { kvs: Array<{ mod_revision: number }> }).kvs[0]?.mod_revision ?? 0;
  const cli = (args: string[]): { code: number; stdout: string; stderr: string } => {
    const r = spawnSync('ip', ['netns', 'exec', bridge, process.execPath, BIN, ...args, '--inventory', url], { encoding: 'utf8', cwd: ROOT });
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  };
  const applied = (i: number): string | null => {
    const out = etcd.ctl(['get', keys.statusOf(name(i)), '--print-value-only']).trim();
    return out === '' ? null : ((JSON.parse(out) as { policyRevision: string | null }).policyRevision ?? null);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'palisade-fleet-canary-'));
    made.push(bridge);
    await addNamespace(bridge);
    await ipBatch(bridge, ['link set lo up', 'link add br0 type bridge', 'link set br0 up', `addr add ${ETCD_IP}/24 dev br0`]);
    for (let i = 0; i < COUNT; i++) {
      made.push(ns(i));
      await addNamespace(ns(i));
      await ipBatch(bridge, [`link add v${i} type veth peer name eth0 netns ${ns(i)}`, `link set v${i} master br0`, `link set v${i} up`]);
      await ipBatch(ns(i), ['link set lo up', 'link set eth0 up', `addr add ${ip(i)}/24 dev eth0`]);
    }
    etcd = await startEtcd({ netns: bridge, host: ETCD_IP });
    url = etcd.url();
    for (let i = 0; i < COUNT; i++) etcd.ctl(['put', keys.host(name(i)), encodeRegistration(keys, { name: name(i), roles: ['app'], networks: [`10.234.${subnet}.0/24`], lan: 'eth0' }).text]);
    writeFileSync(join(dir, 'first.yaml'), policy(false, 8080));
    assert.equal(cli(['push', '--policy', join(dir, 'first.yaml')]).code, 0);
    for (let i = 0; i < COUNT; i++) {
      const log = openSync(join(dir, `agent-${i}.log`), 'a');
      const args = [BIN, 'agent', '--host', name(i), '--inventory', url, '--state-dir', join(dir, `state-${i}`), '--lan', 'eth0', '--ttl', '5', '--confirm-window', '4', '--no-resolve'];
      if (CANARIES.includes(i)) args.push('--no-etcd-failsafe');
      agents.push(spawn('ip', ['netns', 'exec', ns(i), process.execPath, ...args], { stdio: ['ignore', log, log] }));
    }
    await until('every agent to apply the first policy', () => cli(['fleet', 'status']).code === 0, 300_000);
  });

  after(async () => {
    for (const child of agents) child.kill('SIGKILL');
    await etcd?.close();
    for (const ns of made.reverse()) await deleteNamespace(ns).catch(() => undefined);
    if (dir !== undefined && process.env.KEEP_FLEET_LOGS === undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('a policy that cuts the canaries from etcd is rolled back by itself and never reaches the other hosts', async () => {
    const first = applied(2);
    writeFileSync(join(dir, 'cut.yaml'), policy(true, 8081));
    const policyBefore = policyRevision();
    const push = cli(['push', '--policy', join(dir, 'cut.yaml'), '--canary', `name:${name(0)} OR name:${name(1)}`, '--bake', '5s']);
    assert.equal(push.code, 1, push.stdout + push.stderr);
    assert.match(push.stderr, /canary rollout failed: canary h-[12] failed: .*etcd could not be reached/);
    assert.equal(policyRevision(), policyBefore, 'policy unchanged');
    assert.equal(etcd.ctl(['get', keys.candidate, '--print-value-only']).trim(), '', 'candidate gone');
    for (let i = 2; i < COUNT; i++) assert.equal(applied(i), first, `${name(i)} never saw the candidate`);
    await until('the canaries back on the current policy', () => CANARIES.every((i) => applied(i) === first), 90_000);
  });

  it('a good policy passes the canaries and is promoted to every host', async () => {
    writeFileSync(join(dir, 'good.yaml'), policy(false, 8082));
    const push = cli(['push', '--policy', join(dir, 'good.yaml'), '--canary', '34%', '--bake', '3s']);
    assert.equal(push.code, 0, push.stdout + push.stderr);
    assert.match(push.stdout, /after canaries h-1, h-2, h-3 passed/);
    const revision = /pushed policy ([0-9a-f]{16})/.exec(push.stdout)?.[1];
    await until('every host on the promoted policy', () => Array.from({ length: COUNT }, (_, i) => applied(i)).every((r) => r === revision), 60_000);
  });

  it("a policy that makes a canary drop traffic its peers send is rolled back by the drop-rate gate, naming the host and its rates", async () => {
    const current = applied(2);
    /* h-4 opens a connection to h-3:8082 every 20 ms: accepted (reset, no listener) by the current policy, dropped by the candidate. */
    const SENDER = `const net = require('node:net'); setInterval(() => { const s = net.connect({ host: '${ip(2)}', port: 8082, timeout: 300 }); s.on('error', () => s.destroy()); s.on('timeout', () => s.destroy()); }, 20);`;
    const sender = spawn('ip', ['netns', 'exec', ns(3), process.execPath, '-e', SENDER], { stdio: 'ignore' });
    agents.push(sender);
    try {
      writeFileSync(join(dir, 'drops.yaml'), policy(false, 8085));
      const policyBefore = policyRevision();
      const push = cli(['push', '--policy', join(dir, 'drops.yaml'), '--canary', `name:${name(2)}`, '--bake', '5s']);
      assert.equal(push.code, 1, push.stdout + push.stderr);
      assert.match(push.stderr, /canary rollout failed: drop rate: h-3 dropped \d+\.\d\/s during the bake against \d+\.\d\/s before \(limit 3 x /);
      assert.equal(policyRevision(), policyBefore, 'policy unchanged');
      for (const i of [0, 1, 3, 4, 5]) assert.equal(applied(i), current, `${name(i)} never saw the candidate`);
      await until('the canary back on the current policy', () => applied(2) === current, 90_000);
    } finally {
      sender.kill('SIGKILL');
    }
  });
});
