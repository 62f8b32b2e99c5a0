/** The etcd store against a real single-member etcd: snapshot reads, watches with resync, leases, statuses. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Etcd3 } from 'etcd3';
import { RecordingApplier } from '../../src/agent/applier.ts';
import { EtcdAgent } from '../../src/agent/etcd-agent.ts';
import { silentLogger } from '../../src/agent/logger.ts';
import { connectEtcd } from '../../src/fleet/client.ts';
import { fleetKeys } from '../../src/fleet/keys.ts';
import { encodePolicy } from '../../src/fleet/policy-record.ts';
import { Membership } from '../../src/fleet/register.ts';
import { readSnapshot } from '../../src/fleet/snapshot.ts';
import { FleetView } from '../../src/fleet/view.ts';
import { FleetWatch } from '../../src/fleet/watch.ts';
import { parseEtcdUrl } from '../../src/fleet/url.ts';
import { loadInventory } from '../../src/app/inventory.ts';
import { StaticResolver } from '../../src/resolve/resolver.ts';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.ts';
import { runCli } from '../helpers/cli.ts';
import { POLICY } from '../helpers/fleet.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
  return Date.now() - started;
}

/** A registration (the admin's) pinning one address: a static host. */
const facts = (name: string, address: string, roles: string[] = ['web']) => JSON.stringify({ name, roles, interfaces: { eth0: [address] }, lan: 'eth0' });
/** A registration for an agent that may claim addresses in 10.0.0.0/16. */
const agentRegistration = (name: string) => JSON.stringify({ name, roles: ['web'], networks: ['10.0.0.0/16'], lan: 'eth0' });
describe('fleet store on etcd', () => {
  let etcd: EtcdCluster;
  let client: Etcd3;
  const log = silentLogger();
  let n = 0;
  const prefix = () => `/t${++n}`;

  before(async () => {
    etcd = await startEtcd();
    client = connectEtcd(parseEtcdUrl(etcd.url()));
  });
  after(async () => {
    client?.close();
    await etcd?.close();
  });

  it('reads a snapshot as an inventory, rejecting untrusted facts with warnings (loadInventory etcd://)', async () => {
    const p = prefix();
    const keys = fleetKeys(p);
    await client.put(keys.host('web-1')).value(facts('web-1', '10.0.0.1'));
    await client.put(keys.host('evil')).value(facts('evil', '0.0.0.0/0'));
    await client.put(keys.host('copycat')).value(facts('copycat', '10.0.0.1'));
    await client.put(keys.member('ghost')).value(JSON.stringify({ name: 'ghost', interfaces: { eth0: ['10.0.0.3'] } }));
    const inventory = await loadInventory(etcd.url(p), { cwd: '.' });
    assert.deepEqual(inventory.hosts.map((h) => h.name), ['copycat', 'web-1']);
    assert.deepEqual(inventory.hosts.map((h) => h.addresses.v4), [[], ['10.0.0.1']]);
    assert.deepEqual(inventory.diagnostics.map((d) => d.file).sort(), [keys.host('copycat'), keys.host('evil'), keys.member('ghost')]);
  });

  it('reads a snapshot larger than gRPC\'s default 4 MB response (a fleet of more than ~25,000 hosts)', async () => {
    const keys = fleetKeys(prefix());
    const value = JSON.stringify({ name: 'x', roles: ['web'], attributes: { note: 'n'.repeat(1000) } });
    for (let i = 0; i < 5000; i += 100) {
      await client
        .if(keys.policy, 'Mod', '>', -1)
        .then(...Array.from({ length: 100 }, (_, k) => client.put(keys.host(`h${i + k}`)).value(value)))
        .commit();
    }
    const snapshot = await readSnapshot(client, keys);
    assert.equal(snapshot.hosts.length, 5000);
  });

  it('follows puts and deletes through the watch, and resyncs when its revision was compacted', async () => {
    const p = prefix();
    const keys = fleetKeys(p);
    await client.put(keys.host('a')).value(facts('a', '10.0.1.1'));
    const old = Number((await client.put(keys.host('b')).value(facts('b', '10.0.1.2')).exec()).header.revision);
    await client.delete().key(keys.host('b'));
    const now = Number((await client.put(keys.host('c')).value(facts('c', '10.0.1.3')).exec()).header.revision);
    etcd.ctl(['compact', String(now), '--physical']);
    const view = new FleetView(keys, 'test');
    let changes = 0;
    const watch = new FleetWatch(client, keys, view, { log, changed: () => changes++, firstWatchFrom: old });
    try {
      await watch.start();
      await until('the resync after the compacted watch', () => watch.syncs >= 2);
      assert.deepEqual(view.inventory().hosts.map((h) => h.name), ['a', 'c']);
      await client.put(keys.host('d')).value(facts('d', '10.0.1.4'));
      await client.delete().key(keys.host('a'));
      await client.put(keys.policy).value(encodePolicy([{ path: 'p.yaml', text: POLICY }]));
      await until('the events', () => view.inventory().hosts.map((h) => h.name).join() === 'c,d' && view.policy() !== null);
      assert.ok(changes >= 4);
    } finally {
      await watch.close();
    }
  });

  it('keeps membership and liveness alive; once released, liveness expires after the TTL and membership after the grace period', async () => {
    const keys = fleetKeys(prefix());
    const membership = new Membership(client, keys, 'r', 1, 3, log);
    await membership.publish({ text: JSON.stringify({ name: 'r', interfaces: { eth0: ['10.0.2.1'] } }), addresses: ['10.0.2.1'] });
    await sleep(2500);
    for (const key of [keys.member('r'), keys.claim('r', '10.0.2.1'), keys.aliveOf('r')]) assert.notEqual(await client.get(key).string(), null, `${key} alive after 2.5 TTLs`);
    membership.close();
    await until('liveness to expire', async () => (await client.get(keys.aliveOf('r')).string()) === null, 3000);
    assert.notEqual(await client.get(keys.member('r')).string(), null, 'still a member within the grace period');
    await until('membership to expire', async () => (await client.get(keys.member('r')).string()) === null, 5000);
    assert.equal(await client.get(keys.claim('r', '10.0.2.1')).string(), null);
  });

  it('a claim keeps its revision across publications, moves to the new lease, and stale claims go; leave() removes everything', async () => {
    const keys = fleetKeys(prefix());
    const observed = (...addresses: string[]) => ({ text: JSON.stringify({ name: 'm', interfaces: { eth0: addresses } }), addresses });
    const first = new Membership(client, keys, 'm', 5, 30, log);
    await first.publish(observed('10.0.2.1', '10.0.2.2'));
    const claimed = Number((await client.get(keys.claim('m', '10.0.2.1')).exec()).kvs[0]?.create_revision);
    first.close();
    const second = new Membership(client, keys, 'm', 5, 30, log);
    await second.publish(observed('10.0.2.1'));
    const kv = (await client.get(keys.claim('m', '10.0.2.1')).exec()).kvs[0];
    assert.equal(Number(kv?.create_revision), claimed, 'the first claim keeps its revision');
    assert.equal(await client.get(keys.claim('m', '10.0.2.2')).string(), null, 'a claim no longer observed is deleted');
    await second.leave();
    assert.deepEqual(await client.getAll().prefix(keys.members).keys(), []);
    assert.equal(await client.get(keys.aliveOf('m')).string(), null);
  });

  it('agents apply once per burst of joins (debounced) and write their status', async () => {
    const p = prefix();
    const keys = fleetKeys(p);
    await client.put(keys.policy).value(encodePolicy([{ path: 'p.yaml', text: POLICY }]));
    await client.put(keys.host('web-0')).value(agentRegistration('web-0'));
    const applier = new RecordingApplier();
    const agent = new EtcdAgent({
      host: 'web-0',
      client,
      keys,
      source: etcd.url(p),
      ttlSeconds: 5,
      facts: async () => ({ name: 'web-0', interfaces: { eth0: ['10.0.3.250'] }, lan: 'eth0' }),
      applier,
      resolver: new StaticResolver({}),
      log,
    });
    try {
      await agent.start();
      await until('the first apply', () => applier.applies === 1);
      await Promise.all(Array.from({ length: 100 }, (_, i) => client.put(keys.host(`web-${i + 1}`)).value(facts(`web-${i + 1}`, `10.0.3.${i + 1}`))));
      await until('the burst to be applied', () => (applier.last?.sets.find((s) => s.family === 4)?.elements.length ?? 0) === 101);
      await sleep(700);
      assert.ok(applier.applies <= 3, `a burst of 100 joins took ${applier.applies - 1} applies`);
      await until('the status', async () => JSON.parse((await client.get(keys.statusOf('web-0')).string()) ?? '{}').inventoryRevision === applier.last?.inventoryRevision);
    } finally {
      await agent.close();
    }
  });
  it('publishes its flow logs under flows/<name>; `fleet flows` adds up every host', async () => {
    const p = prefix();
    const keys = fleetKeys(p);
    await client.put(keys.policy).value(encodePolicy([{ path: 'policy.yaml', text: POLICY }]));
    const agent = new EtcdAgent({
      host: 'web-0',
      client,
      keys,
      source: etcd.url(p),
      ttlSeconds: 5,
      facts: async () => ({ name: 'web-0', interfaces: { eth0: ['10.0.4.1'] }, lan: 'eth0' }),
      applier: new RecordingApplier(),
      resolver: new StaticResolver({}),
      log,
      flowLogs: [fileURLToPath(new URL('../audit/fixtures/ulogd-server.json', import.meta.url))],
    });
    try {
      await agent.start();
      await until('flows/web-0', async () => (await client.get(keys.flowsOf('web-0')).string()) !== null);
      await client.put(keys.flowsOf('broken')).value('{"summary": 3}');
      const listed = await runCli(['fleet', 'flows', '--inventory', etcd.url(p), '--format', 'json']);
      assert.equal(listed.code, 0, listed.stderr);
      const view = JSON.parse(listed.stdout) as { hosts: string[]; flows: Array<{ prefixes: string[]; count: number }> };
      assert.deepEqual(view.hosts, ['broken', 'web-0']);
      assert.ok(view.flows.length > 0 && view.flows.every((f) => f.count > 0));
      assert.ok(view.flows.some((f) => f.prefixes.some((prefix) => prefix.startsWith('AUDIT_PAL_'))));
      assert.match(listed.stderr, /flows\/broken: expected/);
    } finally {
      await agent.close();
    }
  });
});
