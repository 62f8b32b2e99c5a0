/** The probe report's and the counters' formatting: pure. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cell, formatCounters, formatMatrix, formatReport, summarise } from '../../src/lab/matrix.ts';
import type { ProbeResult } from '../../src/lab/probe-run.ts';

function result(over: Partial<ProbeResult>): ProbeResult {
  return {
    source: 'a',
    destination: 'b',
    protocol: 'tcp',
    port: 22,
    sourcePort: null,
    family: 4,
    user: null,
    uid: 0,
    sourceAddress: '10.0.0.1',
    destinationAddress: '10.0.0.2',
    predicted: true,
    decision: 'accept',
    reasons: ['out on a: accepted by failsafe out #1', 'in on b: accepted by rule "SSH"'],
    unevaluated: [],
    outcome: 'passed',
    detail: 'connected',
    passed: true,
    observed: 'accept',
    mismatch: false,
    unverified: false,
    ...over,
  };
}

describe('matrix cells', () => {
  it('lists what passed, protocols in order, users and single-family passes marked', () => {
    const text = cell([
      result({ protocol: 'udp', port: 514 }),
      result({ port: 80, user: 'www-data' }),
      result({ port: 22 }),
      result({ port: 22, family: 6 }),
      result({ port: 443 }),
      result({ port: 443, family: 6, passed: false, outcome: 'timeout', predicted: false }),
      result({ protocol: 'icmp', port: null }),
      result({ port: 9, passed: false, predicted: false, outcome: 'timeout' }),
    ]);
    assert.equal(text, '22,80@www-data,443/4,u514,ping');
  });

  it('marks a pair where the kernel differs from explain with !, and an unverified one with ?', () => {
    assert.equal(cell([result({ predicted: false, mismatch: true })]), '!22');
    assert.equal(cell([result({ passed: false, outcome: 'timeout', mismatch: true })]), '!-');
    assert.equal(cell([result({ predicted: false, unverified: true, unevaluated: ['raw'] })]), '?22');
    assert.equal(cell([]), '-');
  });

  it('draws a row per source and a column per destination, in pages no wider than asked', () => {
    const hosts = ['a', 'b', 'c'];
    const results = [result({}), result({ source: 'b', destination: 'c', port: 8080 }), result({ source: 'c', destination: 'a', protocol: 'icmp', port: null })];
    assert.equal(formatMatrix(hosts, results), ['src\\dst  a     b   c', 'a        \\     22  -', 'b        -     \\   8080', 'c        ping  -   \\'].join('\n'));
    const paged = formatMatrix(hosts, results, 17).split('\n\n');
    assert.equal(paged.length, 2);
    assert.match(paged[1] as string, /^src\\dst  c$/m);
  });

  it('reports every mismatch with both sides of explain and a summary line', () => {
    const results = [
      result({}),
      result({ port: 80, predicted: true, passed: false, outcome: 'timeout', observed: 'drop', detail: 'no answer in 1500 ms', mismatch: true }),
      result({ port: 81, predicted: false, decision: 'reject', passed: false, outcome: 'timeout', observed: 'drop', detail: 'no answer in 300 ms', mismatch: true }),
    ];
    const text = formatReport(['a', 'b'], results, summarise(results, 1.25), ['vrrp is not probed'], null);
    assert.match(text, /^MISMATCH a \(10\.0\.0\.1\) -> b \(10\.0\.0\.2\) tcp\/80 as uid 0: explain says allowed, the kernel: timeout \(no answer in 1500 ms\)$/m);
    assert.match(text, /^MISMATCH a \(10\.0\.0\.1\) -> b \(10\.0\.0\.2\) tcp\/81 as uid 0: explain says rejected \(refused at once\), the kernel: timeout \(no answer in 300 ms\)$/m);
    assert.match(text, /^ {4}in on b: accepted by rule "SSH"$/m);
    assert.match(text, /^note: vrrp is not probed$/m);
    assert.match(text, /^3 probes, 1 passed, in 1\.3 s: 2 mismatch\(es\) with explain$/m);
  });
});

describe('lab logs', () => {
  it('prints one line per chain: dropped, rejected, logged, the log prefix', () => {
    const chains = [{ chain: 'PALISADE-INPUT', prefix: 'DROP_PAL_INPUT', logged: 42, packets: 43, bytes: 4000, rejected: 5, rejectedBytes: 300 }];
    assert.match(formatCounters([{ host: 'web-1', chains }]), /^HOST +CHAIN +DROPPED +REJECTED +LOGGED +LOG PREFIX$/m);
    assert.match(formatCounters([{ host: 'web-1', chains }]), /^web-1 +PALISADE-INPUT +43 +5 +42 +DROP_PAL_INPUT$/m);
  });
});
