/** The probe report's formatting and the kernel counter parsers: pure. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseIptablesCounters, parseNftCounters } from '../../src/lab/counters.ts';
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
    reasons: ['out on a: accepted by failsafe out #1', 'in on b: accepted by rule "SSH"'],
    unevaluated: [],
    outcome: 'passed',
    detail: 'connected',
    passed: true,
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
    const results = [result({}), result({ port: 80, predicted: true, passed: false, outcome: 'timeout', detail: 'no answer in 1500 ms', mismatch: true })];
    const text = formatReport(['a', 'b'], results, summarise(results, 1.25), ['vrrp is not probed'], null);
    assert.match(text, /^MISMATCH a \(10\.0\.0\.1\) -> b \(10\.0\.0\.2\) tcp\/80 as uid 0: explain says allowed, the kernel: timeout \(no answer in 1500 ms\)$/m);
    assert.match(text, /^ {4}in on b: accepted by rule "SSH"$/m);
    assert.match(text, /^note: vrrp is not probed$/m);
    assert.match(text, /^2 probes, 1 passed, in 1\.3 s: 1 mismatch\(es\) with explain$/m);
  });
});

describe('kernel counters', () => {
  it('reads log and drop counters from nft -j', () => {
    const json = JSON.stringify({
      nftables: [
        { metainfo: { version: '1.0.6' } },
        { rule: { chain: 'input', expr: [{ match: {} }, { drop: null }] } },
        { rule: { chain: 'input', expr: [{ counter: { packets: 7, bytes: 400 } }, { limit: {} }, { log: { prefix: 'DROP_PAL_INPUT ' } }] } },
        { rule: { chain: 'input', expr: [{ counter: { packets: 7, bytes: 400 } }, { drop: null }] } },
        { rule: { chain: 'input', expr: [{ counter: { packets: 3, bytes: 100 } }, { accept: null }] } },
        { rule: { chain: 'user_www-data', expr: [{ counter: { packets: 2, bytes: 100 } }, { drop: null }] } },
      ],
    });
    assert.deepEqual(parseNftCounters(json), [
      { chain: 'input', prefix: 'DROP_PAL_INPUT', logged: 7, dropped: 7 },
      { chain: 'user_www-data', prefix: null, logged: 0, dropped: 2 },
    ]);
  });

  it("sums iptables and ip6tables listings of palisade's chains only", () => {
    const v4 = `Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
    pkts      bytes target     prot opt in     out     source               destination
      62     3282 PALISADE-INPUT  0    --  *      *       0.0.0.0/0            0.0.0.0/0
       9      500 DROP       0    --  *      *       0.0.0.0/0            0.0.0.0/0

Chain PALISADE-INPUT (1 references)
    pkts      bytes target     prot opt in     out     source               destination
       0        0 DROP       0    --  *      *       0.0.0.0/0            0.0.0.0/0            ctstate INVALID
      37     1914 LOG        0    --  *      *       0.0.0.0/0            0.0.0.0/0            limit: avg 10/sec burst 20 LOG flags 0 level 4 prefix "DROP_PAL_INPUT "
      37     1914 DROP       0    --  *      *       0.0.0.0/0            0.0.0.0/0
`;
    const v6 = `Chain PALISADE-INPUT (1 references)
    pkts      bytes target     prot opt in     out     source               destination
       5     2148 LOG        0    --  *      *       ::/0                 ::/0                 limit: avg 10/sec burst 20 LOG flags 0 level 4 prefix "DROP_PAL_INPUT "
       6     2148 DROP       0    --  *      *       ::/0                 ::/0
`;
    const chains = [...parseIptablesCounters(v6, parseIptablesCounters(v4)).values()];
    assert.deepEqual(chains, [{ chain: 'PALISADE-INPUT', prefix: 'DROP_PAL_INPUT', logged: 42, dropped: 43 }]);
    assert.match(formatCounters([{ host: 'web-1', chains }]), /^web-1 +PALISADE-INPUT +43 +42 +DROP_PAL_INPUT$/m);
  });
});
