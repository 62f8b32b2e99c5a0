/** The agent's metrics: what an apply, a failure and a scrape report, and the endpoint's address parsing. */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { RecordingApplier, type Applier } from '../../src/agent/applier.ts';
import { AgentMetrics, measuredApplier, parseListen, serveMetrics } from '../../src/agent/metrics.ts';
import { OperationError, UsageError } from '../../src/diagnostics.ts';
import { VERSION } from '../../src/version.ts';
import { fixture } from '../render/fixture.ts';

const line = (text: string, name: string): string | undefined => text.split('\n').find((l) => l.startsWith(name));

describe('agent metrics', () => {
  it('counts applies by mode and failures by kind, with set element counts and kernel counters', async () => {
    const metrics = new AgentMetrics(async () => [{ chain: 'input', prefix: 'DROP_PAL_INPUT', logged: 7, packets: 7, bytes: 420, rejected: 3, rejectedBytes: 180 }]);
    const ruleset = fixture();
    await measuredApplier(new RecordingApplier(), metrics).apply(ruleset);
    const failing: Applier = { apply: () => Promise.reject(new OperationError('nft refused', { kind: 'kernel', unchanged: true })) };
    await assert.rejects(measuredApplier(failing, metrics).apply(ruleset), /nft refused/);
    metrics.etcdConnected(true);
    const text = await metrics.registry.metrics();
    assert.equal(line(text, 'palisade_applies_total{mode="full"}'), 'palisade_applies_total{mode="full"} 1');
    assert.equal(line(text, 'palisade_apply_failures_total{kind="kernel"}'), 'palisade_apply_failures_total{kind="kernel"} 1');
    assert.equal(line(text, 'palisade_apply_duration_seconds_count'), 'palisade_apply_duration_seconds_count 2');
    assert.equal(line(text, `palisade_build_info{version="${VERSION}"}`), `palisade_build_info{version="${VERSION}"} 1`);
    assert.equal(line(text, 'palisade_etcd_connected'), 'palisade_etcd_connected 1');
    assert.equal(line(text, 'palisade_dropped_packets{chain="input"}'), 'palisade_dropped_packets{chain="input"} 7');
    assert.equal(line(text, 'palisade_rejected_packets{chain="input"}'), 'palisade_rejected_packets{chain="input"} 3');
    assert.equal(line(text, 'palisade_rejected_bytes{chain="input"}'), 'palisade_rejected_bytes{chain="input"} 180');
    const set = ruleset.sets[0];
    assert.ok(set !== undefined);
    assert.equal(line(text, `palisade_set_elements{set="${set.name}"}`), `palisade_set_elements{set="${set.name}"} ${set.elements.length}`);
    assert.ok(Number(line(text, 'palisade_last_apply_success_timestamp_seconds ')?.split(' ')[1]) > Date.now() / 1000 - 60);
  });

  it('a kernel that cannot be read is a gauge at 0, not a failed scrape', async () => {
    const metrics = new AgentMetrics(() => Promise.reject(new Error('no nft')));
    assert.match(await metrics.registry.metrics(), /^palisade_kernel_counters_readable 0$/m);
  });

  it('serves /metrics over HTTP and nothing else', async () => {
    const server = await serveMetrics(new AgentMetrics(async () => []), '127.0.0.1:0');
    try {
      const { port } = server.address() as AddressInfo;
      const ok = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(ok.status, 200);
      assert.match(await ok.text(), /^palisade_build_info/m);
      assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 404);
    } finally {
      server.close();
    }
  });

  it('parses the listen address and refuses anything else', () => {
    assert.deepEqual(parseListen('127.0.0.1:9742'), { host: '127.0.0.1', port: 9742 });
    assert.deepEqual(parseListen('[::1]:9742'), { host: '::1', port: 9742 });
    assert.deepEqual(parseListen('9742'), { host: '127.0.0.1', port: 9742 });
    for (const bad of ['', 'localhost', '1.2.3.4:99999', ':9742', '1.2.3.4:97a', '[::1]9742']) assert.throws(() => parseListen(bad), UsageError, bad);
  });
});
