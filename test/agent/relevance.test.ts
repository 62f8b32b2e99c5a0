/**
 * Fan-out by relevance (issue 15), with a real agent on a real etcd loading a real namespace's nftables: a host
 * that no rule of the agent's host selects changes nothing (no compile, no apply, no status write); a host its
 * rules select joins and leaves as set-element updates (no compile, `membership` applies), and what the kernel
 * holds is what a full compile gives; the periodic drift check reloads a drifted kernel without compiling; the policy
 * still recompiles.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { kernelApplier } from '../../src/agent/applier.ts';
import { JOURNAL_FILE, loadState } from '../../src/apply/state.ts';
import { EtcdAgent } from '../../src/agent/etcd-agent.ts';
import { silentLogger } from '../../src/agent/logger.ts';
import { FleetCompiler } from '../../src/compile/compile.ts';
import { connectEtcd } from '../../src/fleet/client.ts';
import { fleetKeys } from '../../src/fleet/keys.ts';
import { encodePolicy } from '../../src/fleet/policy-record.ts';
import { Membership } from '../../src/fleet/register.ts';
import { parseStatus } from '../../src/fleet/status.ts';
import { parseEtcdUrl } from '../../src/fleet/url.ts';
import { StaticResolver } from '../../src/resolve/resolver.ts';
import { startEtcd, startGrpcProxy, type EtcdCluster } from '../helpers/etcd.ts';
import { POLICY } from '../helpers/fleet.ts';
import { namespaceName, run, skipUnlessRoot } from '../helpers/netns.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) assert.fail(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const registration = (name: string, roles: string[]): string => JSON.stringify({ name, roles, networks: ['10.7.0.0/16'], lan: 'eth0' });
const observed = (name: string, address: string) => ({ text: JSON.stringify({ name, interfaces: { eth0: [address] }, lan: 'eth0' }), addresses: [address] });

/** The IPv4 elements of every set of palisade's table in the namespace (none before the first load). */
function v4Elements(ns: string): string[] {
  const listed = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-j', 'list', 'table', 'inet', 'palisade'], { encoding: 'utf8' });
  if (listed.status !== 0) return [];
  const listing = JSON.parse(listed.stdout) as { nftables: Array<{ set?: { type: string; elem?: string[] } }> };
  return listing.nftables.flatMap((o) => (o.set?.type === 'ipv4_addr' ? (o.set.elem ?? []) : []));
}

describe('fan-out by relevance (real agent, etcd and nftables)', { skip: skipUnlessRoot, timeout: 180_000 }, () => {
  let etcd: EtcdCluster;
  let client: Etcd3;
  const ns = namespaceName('pal-rel');
  const proxied = [namespaceName('pal-relp'), namespaceName('pal-relp')];
  const stateDir = mkdtempSync(join(tmpdir(), 'palisade-relevance-'));
  const log = silentLogger();

  before(async () => {
    for (const name of [ns, ...proxied]) run('ip', ['netns', 'add', name]);
    etcd = await startEtcd();
    client = connectEtcd(parseEtcdUrl(etcd.url()));
  });
  after(async () => {
    client?.close();
    await etcd?.close();
    for (const name of [ns, ...proxied]) spawnSync('ip', ['netns', 'del', name]);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('drops an irrelevant join; applies a relevant join and leave as element updates; drift checks compile nothing; recompiles for the policy', async () => {
    const keys = fleetKeys('/relevance');
    await client.put(keys.policy).value(encodePolicy([{ path: 'policy.yaml', text: POLICY }]));
    await client.put(keys.host('web-0')).value(registration('web-0', ['web']));
    const agent = new EtcdAgent({
      host: 'web-0',
      client,
      keys,
      source: etcd.url('/relevance'),
      ttlSeconds: 10,
      facts: async () => ({ name: 'web-0', interfaces: { eth0: ['10.7.0.1'] }, lan: 'eth0' }),
      applier: kernelApplier({ stateDir, target: { netns: ns }, lockTimeoutMs: 30_000, command: ['test'] }, 'nft'),
      resolver: new StaticResolver({}),
      log,
    });
    const memberships: Membership[] = [];
    const enroll = async (name: string, roles: string[], address: string): Promise<Membership> => {
      await client.put(keys.host(name)).value(registration(name, roles));
      const membership = new Membership(client, keys, name, 10, 60, log);
      memberships.push(membership);
      await membership.publish(observed(name, address));
      return membership;
    };
    const v4Set = (): string[] => v4Elements(ns);
    const status = async () => parseStatus((await client.get(keys.statusOf('web-0')).string()) ?? '');
    try {
      await agent.start();
      const appliedHash = async (): Promise<string | undefined> => (await loadState(stateDir)).applied?.hash;
      await until('its own address applied and reported', async () => v4Set().includes('10.7.0.1') && agent.status.writes > 0 && (await status())?.hash === (await appliedHash()));
      await agent.loop.idle();
      const { compiles } = agent.loop.counts;
      assert.deepEqual(v4Set(), ['10.7.0.1']);

      const events = agent.events;
      const writes = agent.status.writes;
      await enroll('db-1', ['db'], '10.7.0.2');
      await until('the agent to see the database host (registration, observation, claim)', () => agent.events >= events + 3);
      await sleep(400);
      await agent.loop.idle();
      assert.equal(agent.loop.counts.compiles, compiles, 'an irrelevant join compiles nothing');
      assert.equal(agent.loop.counts.updates, 0, 'an irrelevant join applies nothing');
      assert.ok(agent.loop.counts.dropped >= 3, `dropped ${agent.loop.counts.dropped} events`);
      assert.equal(agent.status.writes, writes, 'an irrelevant join writes no status');
      assert.deepEqual(v4Set(), ['10.7.0.1']);

      const web2 = await enroll('web-2', ['web'], '10.7.0.3');
      await until('the relevant join in the kernel set', () => v4Set().includes('10.7.0.3'));
      await agent.loop.idle();
      assert.equal(agent.loop.counts.compiles, compiles, 'a relevant join is applied without a compile');
      assert.ok(agent.loop.counts.updates >= 1);
      await until('the status of the element update', async () => (await status())?.mode === 'membership');
      const full = new FleetCompiler({ policy: agent.view.policy()?.policy as never, inventory: agent.view.inventory(), names: new Map() }).compile('web-0');
      const applied = await loadState(stateDir);
      assert.deepEqual(applied.applied?.ruleset, JSON.parse(JSON.stringify(full)), 'the incremental ruleset is the one a full compile gives');
      assert.ok(existsSync(join(stateDir, JOURNAL_FILE)), 'the element update is recorded as a journal line');

      const beforeLeave = agent.status.writes;
      await web2.leave();
      await until('the relevant leave in the kernel set', () => !v4Set().includes('10.7.0.3'));
      assert.equal(agent.loop.counts.compiles, compiles, 'a relevant leave is applied without a compile');
      assert.deepEqual(v4Set(), ['10.7.0.1']);

      /* The periodic drift check (what its timer calls): the ruleset goes through the applier again, no compile. */
      await agent.loop.idle();
      await until('the leave reported', async () => agent.status.writes > beforeLeave && (await status())?.hash === (await appliedHash()));
      const [checks, unchangedWrites] = [agent.loop.counts.checks, agent.status.writes];
      agent.loop.recheck();
      await until('the drift check of an unchanged kernel', () => agent.loop.counts.checks > checks);
      assert.equal(agent.status.writes, unchangedWrites, 'an unchanged kernel: no status write');
      run('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'inet', 'palisade']);
      assert.deepEqual(v4Set(), []);
      agent.loop.recheck();
      await until('the drifted kernel loaded again by the drift check', () => v4Set().includes('10.7.0.1'));
      await until('the drift reported', async () => (await status())?.drift === true);
      assert.equal(agent.loop.counts.compiles, compiles, 'the drift check compiles nothing');

      await client.put(keys.policy).value(encodePolicy([{ path: 'policy.yaml', text: POLICY.replace('8080', '8081') }]));
      await until('the new policy compiled', () => agent.loop.counts.compiles > compiles);
    } finally {
      for (const m of memberships) m.close();
      await agent.close();
    }
  });

  it('works through etcd grpc-proxy: agents behind one proxy join, see a join and a leave as element updates', async () => {
    const keys = fleetKeys('/proxied');
    const proxy = await startGrpcProxy(etcd);
    const viaProxy = connectEtcd(parseEtcdUrl(proxy.url()));
    await client.put(keys.policy).value(encodePolicy([{ path: 'policy.yaml', text: POLICY }]));
    const agents = proxied.map((netns, i) => {
      const name = `web-${i}`;
      return new EtcdAgent({
        host: name,
        client: viaProxy,
        keys,
        source: proxy.url('/proxied'),
        ttlSeconds: 10,
        facts: async () => ({ name, interfaces: { eth0: [`10.7.1.${i + 1}`] }, lan: 'eth0' }),
        applier: kernelApplier({ stateDir: join(stateDir, name), target: { netns }, lockTimeoutMs: 30_000, command: ['test'] }, 'nft'),
        resolver: new StaticResolver({}),
        log,
      });
    });
    const joiner = new Membership(client, keys, 'web-9', 10, 60, log);
    try {
      for (const [i] of agents.entries()) await client.put(keys.host(`web-${i}`)).value(registration(`web-${i}`, ['web']));
      await Promise.all(agents.map((a) => a.start()));
      const both = ['10.7.1.1', '10.7.1.2'];
      await until('each agent to hold both through the proxy', () => proxied.every((netns) => both.every((a) => v4Elements(netns).includes(a))));
      await Promise.all(agents.map((a) => a.loop.idle()));
      const compiles = agents.map((a) => a.loop.counts.compiles);
      await client.put(keys.host('web-9')).value(registration('web-9', ['web']));
      await joiner.publish(observed('web-9', '10.7.1.9'));
      await until('the join in both kernels', () => proxied.every((netns) => v4Elements(netns).includes('10.7.1.9')));
      await joiner.leave();
      await until('the leave in both kernels', () => proxied.every((netns) => !v4Elements(netns).includes('10.7.1.9')));
      assert.deepEqual(agents.map((a) => a.loop.counts.compiles), compiles, 'joins and leaves through the proxy are element updates');
    } finally {
      joiner.close();
      await Promise.all(agents.map((a) => a.close()));
      viaProxy.close();
      await proxy.close();
    }
  });
});
