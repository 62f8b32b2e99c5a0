/**
 * The single executable, with no node on PATH: an agent in fleet mode against a real etcd, applying in a
 * network namespace, and its metrics scraped (an apply counted, the set's element count). Everything (agent,
 * namespace, etcd, temp dirs) is removed in after(), even on failure.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fleetKeys } from '../../src/fleet/keys.ts';
import { encodeRegistration } from '../../src/fleet/registry.ts';
import { addNamespace, deleteNamespace, ipBatch } from '../../src/lab/namespaces.ts';
import { VERSION } from '../../src/version.ts';
import { runCli } from '../helpers/cli.ts';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.ts';
import { tempDir } from '../helpers/tmp.ts';
import { buildBinary, pathWithoutNode } from './artifacts.ts';
import { appFromClients } from '../helpers/fleet.ts';

const skip = process.getuid?.() === 0 ? false : 'needs root to create network namespaces (ip netns add)';

const POLICY = appFromClients(8080);

describe('the single executable runs a fleet agent with metrics', { skip }, () => {
  const ns = `pal-bin-${randomBytes(3).toString('hex')}`;
  const subnet = `10.233.${randomInt(2, 250)}`;
  const address = `${subnet}.1`;
  let etcd: EtcdCluster | undefined;
  let agent: ChildProcess | undefined;
  let made = false;
  let dir: string;
  let binary: string;

  before(async () => {
    binary = buildBinary();
    dir = tempDir('palisade-binary-e2e-');
    etcd = await startEtcd();
    await addNamespace(ns);
    made = true;
    await ipBatch(ns, ['link set lo up', 'link add eth0 type veth peer name eth1', 'link set eth1 up', 'link set eth0 up', `addr add ${address}/24 dev eth0`]);
  });

  after(async () => {
    if (agent !== undefined && agent.exitCode === null) {
      const gone = new Promise((r) => agent?.once('exit', r));
      agent.kill('SIGKILL');
      await gone;
    }
    if (made) await deleteNamespace(ns).catch(() => undefined);
    await etcd?.close();
  });

  it('applies in the namespace and a scrape shows the apply and the set element count', async () => {
    assert.ok(etcd !== undefined);
    const url = etcd.url();
    writeFileSync(join(dir, 'policy.yaml'), POLICY);
    const push = await runCli(['push', '--policy', join(dir, 'policy.yaml'), '--inventory', url]);
    assert.equal(push.code, 0, push.stderr);
    const put = await runCli(['hosts', 'put', '--name', 'client-1', '--address', '10.233.0.7', '--role', 'client', '--inventory', url]);
    assert.equal(put.code, 0, put.stderr);

    /* The admin registers the host: its role and the network its agent may claim addresses in. */
    const keys = fleetKeys('/palisade');
    etcd.ctl(['put', keys.host('app-1'), encodeRegistration(keys, { name: 'app-1', roles: ['app'], networks: [`${subnet}.0/24`] }).text]);

    const log = join(dir, 'agent.log');
    const args = ['agent', '--host', 'app-1', '--inventory', url, '--netns', ns, '--state-dir', join(dir, 'state'), '--lan', 'eth0', '--no-resolve', '--metrics', '127.0.0.1:0'];
    agent = spawn(binary, args, { stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')], env: { ...process.env, PATH: pathWithoutNode() } });

    let endpoint: string | undefined;
    let text = '';
    for (const started = Date.now(); Date.now() - started < 30_000; await sleep(100)) {
      endpoint ??= /"metrics":"(http:[^"]+)"/.exec(readFileSync(log, 'utf8'))?.[1];
      if (endpoint === undefined) continue;
      text = await (await fetch(endpoint)).text();
      if (/^palisade_applies_total\{mode="full"\} [1-9]/m.test(text)) break;
    }
    assert.ok(endpoint !== undefined, `the agent never served metrics:\n${readFileSync(log, 'utf8')}`);
    assert.match(text, /^palisade_applies_total\{mode="full"\} [1-9]/m, `no apply counted:\n${text}\n${readFileSync(log, 'utf8')}`);
    assert.match(text, new RegExp(`^palisade_build_info\\{version="${VERSION.replace(/\./g, '\\.')}"\\} 1$`, 'm'));
    assert.match(text, /^palisade_set_elements\{set="[^"]+"\} 1$/m, 'the set of clients holds client-1');
    assert.match(text, /^palisade_etcd_connected 1$/m);
    assert.match(text, /^palisade_dropped_packets\{chain="input"\} \d+$/m, 'kernel counters read in the namespace');
    const version = etcd.ctl(['get', '/palisade/status/app-1', '--print-value-only']);
    assert.equal((JSON.parse(version) as { version?: string }).version, VERSION);
  });

  it('trace sends its packet and reads the verdict with no node on PATH (its probe agent is the executable)', () => {
    const traced = spawnSync(binary, ['trace', address, address, '9/tcp', '--netns', ns, '--timeout', '2000'], { encoding: 'utf8', env: { ...process.env, PATH: pathWithoutNode() } });
    assert.equal(traced.status, 0, traced.stderr);
    assert.match(traced.stdout, new RegExp(`^${address.replace(/\./g, '\\.')} -> \\S+ tcp/9: refused\n  out in ${ns}: accepted in chain output by `), traced.stdout);
    assert.doesNotMatch(spawnSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'tables'], { encoding: 'utf8' }).stdout, /palisade_trace/);
  });
});
