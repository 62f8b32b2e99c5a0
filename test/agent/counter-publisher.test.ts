/**
 * `counters/<name>` against a real etcd: the agent puts its totals only when they changed (a fleet of quiet hosts
 * writes nothing), on the liveness lease (the key goes with the heartbeat, and comes back on the next lease), and
 * neither a failed kernel read nor a missing lease writes or throws.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { CounterPublisher } from '../../src/agent/drop-reporter.ts';
import { silentLogger } from '../../src/agent/logger.ts';
import { connectEtcd } from '../../src/fleet/client.ts';
import { parsePublishedCounters } from '../../src/fleet/counters.ts';
import { fleetKeys } from '../../src/fleet/keys.ts';
import { Membership } from '../../src/fleet/register.ts';
import { parseEtcdUrl } from '../../src/fleet/url.ts';
import type { ChainCounters } from '../../src/kernel/counters.ts';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.ts';

describe('the counters an agent publishes', () => {
  let etcd: EtcdCluster;
  let client: Etcd3;
  const keys = fleetKeys('/palisade');

  before(async () => {
    etcd = await startEtcd();
    client = connectEtcd(parseEtcdUrl(etcd.url()));
  });
  after(async () => {
    client?.close();
    await etcd?.close();
  });

  it('puts only what changed, on the liveness lease, again on a new lease', async () => {
    const membership = new Membership(client, keys, 'web-1', 30, 60, silentLogger());
    await membership.publish({ text: '{"name":"web-1"}', addresses: [] });
    let current = membership;
    let kernel: ChainCounters[] = [{ chain: 'input', prefix: null, logged: 0, packets: 3, bytes: 180, rejected: 1, rejectedBytes: 60 }];
    let failing = false;
    const publisher = new CounterPublisher(
      client,
      keys.countersOf('web-1'),
      async () => {
        if (failing) throw new Error('nft: no such table');
        return kernel;
      },
      () => current.heartbeatLease(),
      silentLogger(),
    );
    const read = async () => {
      const text = await client.get(keys.countersOf('web-1')).string();
      return text === null ? null : parsePublishedCounters('k', text);
    };

    await publisher.publish();
    assert.equal(publisher.writes, 1);
    assert.deepEqual({ ...(await read()), at: '' }, { at: '', dropped: 3, rejected: 1, chains: [{ chain: 'input', dropped: 3, rejected: 1, logged: 0 }] });
    const lease = await membership.heartbeatLease();
    const onLease = (await client.getAll().prefix(keys.counters).exec()).kvs[0]?.lease;
    assert.equal(String(onLease), lease, 'the key is on the liveness lease');

    await publisher.publish();
    await publisher.publish();
    assert.equal(publisher.writes, 1, 'unchanged counters are not put again');

    kernel = [{ ...(kernel[0] as ChainCounters), packets: 10 }];
    await publisher.publish();
    assert.equal(publisher.writes, 2);
    assert.equal((await read())?.dropped, 10);

    failing = true;
    await publisher.publish();
    assert.equal(publisher.writes, 2, 'a failed kernel read writes nothing');
    failing = false;

    /* The heartbeat lease goes (a leave, or an outage longer than --ttl): the key goes with it, and comes back on the next one. */
    await membership.leave();
    assert.equal(await read(), null, 'leaving revokes the lease: the counters go with the heartbeat');
    assert.equal(membership.heartbeatLease(), null);
    await publisher.publish();
    assert.equal(publisher.writes, 2, 'no lease, no put');

    current = new Membership(client, keys, 'web-1', 30, 60, silentLogger());
    await current.publish({ text: '{"name":"web-1"}', addresses: [] });
    await publisher.publish();
    assert.equal(publisher.writes, 3);
    assert.equal((await read())?.dropped, 10, 'the same counts are put again on a new lease');
    await current.leave();
    publisher.close();
  });
});
