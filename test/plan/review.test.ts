/** Golden tests of the reviewable plan (rule-level changes with the fields that changed) and of drift as nft text. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeDrift } from '../../src/apply/drift.ts';
import { nftListingLineText } from '../../src/kernel/nft-text.ts';
import { formatPlan, makePlan } from '../../src/plan/plan.ts';
import { formatReview, reviewRules } from '../../src/plan/review.ts';
import { compilerFor, SMALL_INVENTORY } from '../helpers/compiler.ts';

const policy = (ports: string, extra = ''): string => `
rules:
  API cluster RPC:
    on: roles:web
    direction: in
    protocol: tcp
    source: roles:monitoring
    dport: "${ports}"
${extra}`;

const compile = (text: string, inventory = SMALL_INVENTORY): ReturnType<ReturnType<typeof compilerFor>['compileAll']> => compilerFor(text, inventory).compileAll();
const lines = (before: string, after: string, host = 'web-1', inventory = SMALL_INVENTORY): string[] => {
  const b = compile(before).find((rs) => rs.host === host) ?? null;
  const a = compile(after, inventory).find((rs) => rs.host === host) ?? null;
  return reviewRules(b, a).map((r) => formatReview(r));
};

describe('plan review', () => {
  it('narrowing a port range is one changed rule with the ports, not two added and two removed', () => {
    assert.deepEqual(lines(policy('7000:7010'), policy('7000:7005')), ['~ input, published: rule "API cluster RPC": dport 7000-7010 → 7000-7005']);
  });

  it('a new peer is a changed source, named by its host', () => {
    const grown = `${SMALL_INVENTORY}  - name: mon-2\n    environment: production\n    roles: [monitoring]\n    interfaces: { eth0: [10.0.9.2] }\n    lan: eth0\n`;
    const plan = makePlan(compile(policy('80'), grown), compile(policy('80')));
    const names = new Map([['10.0.9.2', 'mon-2'], ['10.0.9.1', 'mon-1']]);
    const text = formatPlan(plan, true, (a) => names.get(a) ?? null);
    assert.match(text, /web-1 .* membership-only: elements \+1\/-0\n {4}~ input, published: rule "API cluster RPC": source \+mon-2 \(10\.0\.9\.2\)\n/);
  });

  it('added and removed rules with every field; the verdict and protocol changes', () => {
    const added = `  Block scanner:\n    on: roles:web\n    direction: in\n    protocol: all\n    action: drop\n    source: 198.51.100.0/24\n`;
    assert.deepEqual(lines(policy('80'), policy('80', added)), ['+ input, published: rule "Block scanner": source 198.51.100.0/24; action drop']);
    assert.deepEqual(lines(policy('80', added), policy('80')), ['- input, published: rule "Block scanner": source 198.51.100.0/24; action drop']);
    const udp = policy('80').replace('protocol: tcp', 'protocol: udp');
    assert.deepEqual(lines(policy('80'), udp), ['~ input, published: rule "API cluster RPC": protocol tcp → udp']);
  });

  it('JSON carries the review per host', () => {
    const plan = makePlan(compile(policy('7000:7005')), compile(policy('7000:7010')));
    const web1 = plan.hosts.find((h) => h.host === 'web-1');
    assert.deepEqual(web1?.review, [{ change: 'changed', chain: 'input, published', rule: 'rule "API cluster RPC"', fields: [{ field: 'dport', before: '7000-7010', after: '7000-7005' }] }]);
    assert.deepEqual(plan.hosts.find((h) => h.host === 'db-1')?.review, []);
  });
});

describe('drift as nft text', () => {
  it('turns the canonical JSON listing lines into nft syntax', () => {
    const rule = JSON.stringify({ rule: { family: 'inet', table: 'palisade', chain: 'input', comment: 'ssh "office"', expr: [
      { match: { op: '==', left: { payload: { protocol: 'ip', field: 'saddr' } }, right: '@pal4_ab' } },
      { match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: { set: [22, { range: [7000, 7005] }] } } },
      { match: { op: '==', left: { meta: { key: 'iifname' } }, right: 'eth0' } },
      { match: { op: 'in', left: { ct: { key: 'state' } }, right: ['established', 'related'] } },
      { counter: null },
      { limit: { rate: 10, burst: 5, per: 'minute' } },
      { log: { prefix: 'DROP_PAL_INPUT ', group: 7 } },
      { reject: { type: 'icmpx', expr: 'admin-prohibited' } },
    ] } });
    assert.equal(nftListingLineText(rule), 'rule input: ip saddr @pal4_ab tcp dport { 22, 7000-7005 } iifname "eth0" ct state established,related counter limit rate 10/minute burst 5 packets log prefix "DROP_PAL_INPUT " group 7 reject with icmpx type admin-prohibited comment "ssh \\"office\\""');
    assert.equal(nftListingLineText(JSON.stringify({ set: { family: 'inet', name: 'pal4_ab', table: 'palisade', type: 'ipv4_addr', flags: ['interval'], elem: [{ prefix: { addr: '10.0.0.0', len: 8 } }, '192.0.2.1'] } })), 'set pal4_ab { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 192.0.2.1 } }');
    assert.equal(nftListingLineText(JSON.stringify({ chain: { family: 'inet', table: 'palisade', name: 'input', type: 'filter', hook: 'input', prio: 0, policy: 'accept' } })), 'chain input { type filter hook input priority 0; policy accept; }');
    assert.equal(nftListingLineText('{"rule":{"chain":"input","expr":[{"xt":{"name":"recent"}}]}}'), 'rule input: {"xt":{"name":"recent"}}');
    assert.equal(nftListingLineText('not json \u001b[31m'), 'not json \u001b[31m');
    assert.equal(nftListingLineText(JSON.stringify({ rule: { chain: 'input', expr: [{ match: { op: '==', left: { meta: { key: 'iifname' } }, right: 'e\u001bvil' } }, { accept: null }] } })), 'rule input: iifname "e\\u001bvil" accept');
  });

  it('status shows drift as nft lines with + and -', () => {
    const extra = JSON.stringify({ rule: { family: 'inet', table: 'palisade', chain: 'input', expr: [{ match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 4444 } }, { accept: null }] } });
    const lines = describeDrift({ drifted: true, backend: 'nft', extra: [extra], missing: [] });
    assert.deepEqual(lines, ["drift: the kernel's nft ruleset is not what palisade applied (+ in the kernel only, - applied but missing):", '  + rule input: tcp dport 4444 accept']);
  });
});
