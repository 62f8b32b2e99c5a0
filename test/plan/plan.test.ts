/** plan, pure: every host's ruleset, and what changes against an earlier version. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatPlan, makePlan } from '../../src/plan/plan.ts';
import { compilerFor, SMALL_INVENTORY } from '../helpers/compiler.ts';

const policy = (port: number): string => `
rules:
  Web:
    on: roles:web
    direction: in
    protocol: tcp
    source: roles:monitoring
    dport: ${port}
`;

const before = compilerFor(policy(80), SMALL_INVENTORY).compileAll();
const grown = `${SMALL_INVENTORY}
  - name: mon-2
    environment: production
    roles: [monitoring]
    interfaces: { eth0: [10.0.9.2] }
    lan: eth0
`;

describe('makePlan', () => {
  it('without an earlier version, every host is just compiled', () => {
    const plan = makePlan(before, null);
    assert.deepEqual(plan.hosts.map((h) => [h.host, h.status]), [
      ['db-1', 'compiled'],
      ['mon-1', 'compiled'],
      ['web-1', 'compiled'],
      ['web-2', 'compiled'],
      ['web-s', 'compiled'],
    ]);
    assert.equal(plan.totals.hosts, 5);
    assert.ok(plan.hosts.every((h) => h.rules > 0 && h.changes === null));
  });

  it('the same inputs: nothing changes', () => {
    const plan = makePlan(compilerFor(policy(80), SMALL_INVENTORY).compileAll(), before);
    assert.equal(plan.totals.unchanged, 5);
    assert.equal(plan.totals.changed, 0);
  });

  it('a changed rule changes the hosts it is on; a new peer is set membership only; a new host is new', () => {
    const changedRule = makePlan(compilerFor(policy(8080), SMALL_INVENTORY).compileAll(), before);
    assert.deepEqual(changedRule.hosts.filter((h) => h.status === 'changed').map((h) => h.host), ['web-1', 'web-2', 'web-s']);
    const newPeer = makePlan(compilerFor(policy(80), grown).compileAll(), before);
    const web1 = newPeer.hosts.find((h) => h.host === 'web-1');
    assert.equal(web1?.status, 'membership-only');
    assert.equal(newPeer.hosts.find((h) => h.host === 'mon-2')?.status, 'new');
    assert.equal(newPeer.totals.new, 1);
  });

  it('a host gone from the inventory is removed', () => {
    const plan = makePlan(before.filter((rs) => rs.host !== 'web-2'), before);
    assert.equal(plan.hosts.find((h) => h.host === 'web-2')?.status, 'removed');
    assert.equal(plan.totals.removed, 1);
  });

  it('formats a table, and with verbose the changed rules', () => {
    const plan = makePlan(compilerFor(policy(8080), SMALL_INVENTORY).compileAll(), before);
    const verbose = formatPlan(plan, true);
    assert.match(verbose, /web-1/);
    assert.match(verbose, /rule "Web"/);
    assert.ok(formatPlan(plan, false).length < verbose.length);
  });
});
