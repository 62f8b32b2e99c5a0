/** trace's table: it marks only the flow's packets, in its own table, and the kernel accepts it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { formatTrace, trace, traceTable, type TraceRequest } from '../../src/audit/trace.ts';
import { sendByProbeAgent } from '../../src/cli/commands/trace.ts';
import { renderNft } from '../../src/render/nft.ts';
import { compilerFor } from '../helpers/compiler.ts';
import { inNamespace, namespaceName, run, skipUnlessRoot as skip } from '../helpers/netns.ts';

const REQUEST: TraceRequest = {
  sourceNetns: 'a',
  destinationNetns: 'b',
  sourceAddress: '10.0.0.1',
  destinationAddress: '10.0.0.2',
  protocol: 'tcp',
  port: 5432,
  timeoutMs: 500,
  uid: null,
};

test('the trace table marks the flow at output (source) and prerouting (destination), before any other chain', () => {
  assert.equal(
    traceTable(REQUEST, 'prerouting'),
    'table inet palisade_trace {\n\tchain trace_prerouting {\n\t\ttype filter hook prerouting priority -350; policy accept;\n\t\tip saddr 10.0.0.1 ip daddr 10.0.0.2 tcp dport 5432 meta nftrace set 1\n\t}\n}\n',
  );
  assert.match(traceTable({ ...REQUEST, sourceAddress: '2001:db8::1', destinationAddress: '2001:db8::2', protocol: 'udp' }, 'output'), /hook output .*\n\t\tip6 saddr 2001:db8::1 ip6 daddr 2001:db8::2 udp dport 5432 meta nftrace set 1/);
});

test('the kernel accepts both trace tables', { skip }, () => {
  inNamespace('pal-trace', (exec) => {
    exec('nft', ['-c', '-f', '-'], traceTable(REQUEST, 'output'));
    exec('nft', ['-c', '-f', '-'], traceTable({ ...REQUEST, sourceAddress: '2001:db8::1', destinationAddress: '2001:db8::2' }, 'prerouting'));
  });
});

test('the report names the verdict, chain and rule of each end', () => {
  const text = formatTrace({
    request: REQUEST,
    outcome: 'timeout',
    ends: [
      { netns: 'a', events: [], decision: null },
      { netns: 'b', events: [], decision: { table: 'palisade', chain: 'input', rule: 'drop', verdict: 'drop' } },
    ],
  });
  assert.equal(text, '10.0.0.1 -> 10.0.0.2 tcp/5432: timeout\n  out in a: no palisade chain decided (no ruleset loaded, or the packet never got there)\n  in in b: dropped (silently: the sender waits for its timeout) in chain input by rule: drop\n');
});

test('a real trace between two namespaces: the user chain accepts uid 4200, root is dropped at output, the table is removed', { skip }, async () => {
  const fixture = (name: string): string => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');
  const compiler = compilerFor(fixture('capture-policy.yaml').replace('mode: audit', 'mode: enforce'), fixture('capture-inventory.yaml'));
  const [a, b] = [namespaceName('pal-tra'), namespaceName('pal-trb')] as [string, string];
  try {
    run('ip', ['netns', 'add', a]);
    run('ip', ['netns', 'add', b]);
    run('ip', ['link', 'add', 'eth0', 'netns', a, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b]);
    for (const [ns, address, host] of [[a, '10.77.0.1', 'a'], [b, '10.77.0.2', 'b']] as const) {
      run('ip', ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
      run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], renderNft(compiler.compile(host)));
    }
    const request = { ...REQUEST, sourceNetns: a, destinationNetns: b, sourceAddress: '10.77.0.1', destinationAddress: '10.77.0.2', port: 9999 };
    const asApp = await trace({ ...request, uid: 4200 }, sendByProbeAgent);
    assert.deepEqual(asApp.ends.map((e) => [e.decision?.chain, e.decision?.verdict]), [['user_app', 'accept'], ['input', 'drop']]);
    assert.match(asApp.ends[0]?.decision?.rule ?? '', /comment "App out"$/);
    const asRoot = await trace(request, sendByProbeAgent);
    assert.deepEqual(asRoot.ends.map((e) => [e.decision?.chain, e.decision?.verdict]), [['output', 'drop'], [undefined, undefined]]);
    for (const ns of [a, b]) assert.doesNotMatch(run('ip', ['netns', 'exec', ns, 'nft', 'list', 'tables']), /palisade_trace/);
  } finally {
    for (const ns of [a, b]) spawnSync('ip', ['netns', 'del', ns]);
  }
});
