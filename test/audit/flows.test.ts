/** Aggregation into flows, the bounded summary, `palisade flows` on recorded logs, and observe's snapshot from recorded conntrack and ss. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { aggregateFlows, summariseFlows } from '../../src/audit/aggregate.ts';
import { parseFlowFile, type FlowRecord } from '../../src/audit/flow.ts';
import { snapshotFrom } from '../../src/audit/observe.ts';
import { runCli } from '../helpers/cli.ts';

const fixturePath = (name: string): string => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));
const fixture = (name: string): string => readFileSync(fixturePath(name), 'utf8');

const record = (over: Partial<FlowRecord>): FlowRecord => ({
  source: '10.0.0.1',
  destination: '10.0.0.2',
  protocol: 'tcp',
  port: 22,
  uid: null,
  verdict: 'audit',
  prefix: 'AUDIT_PAL_INPUT',
  time: null,
  packets: 1,
  ...over,
});

test('aggregate: one flow per source, destination, protocol, port, uid; count and first/last seen', () => {
  const flows = aggregateFlows([
    record({ time: '2026-01-01T00:00:02.000Z' }),
    record({ time: '2026-01-01T00:00:01.000Z', prefix: 'AUDIT_PAL_OUTPUT' }),
    record({ time: null }),
    record({ port: 80 }),
    record({ uid: 33, port: 80 }),
  ]);
  assert.deepEqual(
    flows.map((f) => [f.port, f.uid, f.count, f.firstSeen, f.lastSeen, f.prefixes.join(',')]),
    [
      [22, null, 3, '2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.000Z', 'AUDIT_PAL_INPUT,AUDIT_PAL_OUTPUT'],
      [80, null, 1, null, null, 'AUDIT_PAL_INPUT'],
      [80, 33, 1, null, null, 'AUDIT_PAL_INPUT'],
    ],
  );
  assert.deepEqual(aggregateFlows([...flows, ...flows]).map((f) => f.count), [6, 2, 2], 'flows from several files add up');
});

test('summariseFlows: the N busiest, with what was left out', () => {
  const flows = aggregateFlows([record({}), record({}), record({ port: 80 }), record({ port: 443 })]);
  const summary = summariseFlows(flows, 2);
  assert.deepEqual({ ...summary, top: summary.top.map((f) => f.port) }, { flows: 3, records: 4, top: [22, 443], omitted: 1 });
  assert.equal(summariseFlows(flows, 0).top.length, 0);
});

test('palisade flows: the recorded ulogd2 file of the server namespace, as a table and as a flow file', async () => {
  const text = await runCli(['flows', fixturePath('ulogd-server.json')]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^COUNT +SOURCE +DESTINATION +PORT +UID +LOGGED AS/);
  assert.match(text.stdout, /\n1 +10\.77\.0\.1 +10\.77\.0\.2 +tcp\/9999 +- +AUDIT_PAL_INPUT +20\d\d-/);
  const json = await runCli(['flows', fixturePath('ulogd-server.json'), fixturePath('kmsg.txt'), '--format', 'json', '--top', '3']);
  const parsed = JSON.parse(json.stdout) as { total: number; omitted: number };
  assert.equal(parsed.total, 6, "the udp 5353 input records of both files are one flow");
  assert.equal(parsed.omitted, 3);
  assert.equal(parseFlowFile(json.stdout, 'stdout').length, 3, 'the JSON output is a flow file');
  assert.equal((await runCli(['flows', '/nonexistent/audit.json'])).code, 1);
  assert.equal((await runCli(['flows', '--top', 'x', fixturePath('kmsg.txt')])).code, 2);
});

test('observe: conntrack connections as flows, owners from ss, listening sockets', () => {
  const server = snapshotFrom(fixture('conntrack-extended.txt'), fixture('ss-tunapeH.txt'), '2026-01-01T00:00:00.000Z', 'b');
  assert.deepEqual(
    server.flows.map((f) => [f.source, f.destination, f.protocol, f.port, f.uid, f.verdict]),
    [
      ['10.77.0.1', '10.77.0.2', 'tcp', 9999, null, 'live'],
      ['10.77.0.1', '10.77.0.2', 'udp', 5353, null, 'live'],
    ],
  );
  assert.deepEqual(server.listening, [{ protocol: 'tcp', address: null, port: 9999, uid: null, process: 'python3' }]);
  const client = snapshotFrom(fixture('conntrack-extended.txt'), fixture('ss-tunapeH-client.txt'), '2026-01-01T00:00:00.000Z', null);
  assert.equal(client.flows.find((f) => f.protocol === 'tcp')?.uid, 4200, "the client's socket owner, from ss");
  assert.equal(parseFlowFile(JSON.stringify(client), 'snapshot').length, 2, 'a snapshot is a flow file');
});

test('flow files: errors name the file and the flow', () => {
  assert.throws(() => parseFlowFile('[]', 'f.json'), /f\.json: expected \{"flows": \[\.\.\.\]\}/);
  assert.throws(() => parseFlowFile('{"flows": [{"source": "a"}]}', 'f.json'), /f\.json: flows\[0\]: a flow needs/);
  assert.deepEqual(parseFlowFile('{"flows": [{"source": "10.0.0.1", "destination": "10.0.0.2", "protocol": "udp", "port": 53}]}', 'f').map((f) => [f.count, f.verdict]), [[1, 'live']]);
});
