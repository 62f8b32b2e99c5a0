/**
 * Golden test of the fleet-wide set membership lines of `plan`: a host joining the web role shows once, as
 * `+ web-7 (10.0.1.17, 2001:db8::17) in "Web to Mongo" on 4 hosts`, with totals per host and for the fleet,
 * in text and JSON. Regenerate with `UPDATE_GOLDEN=1` after checking the change is intended.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { namerOfHosts } from '../../src/audit/host-names.ts';
import { parseInventoryDocument } from '../../src/inventory/document.ts';
import { formatMembership, formatPlan, makePlan } from '../../src/plan/plan.ts';
import { toJson } from '../../src/cli/output.ts';
import { compilerFor } from '../helpers/compiler.ts';

const GOLDEN = join(import.meta.dirname, 'golden');
const update = process.env.UPDATE_GOLDEN === '1';

function golden(name: string, content: string): void {
  const path = join(GOLDEN, name);
  if (update) writeFileSync(path, content);
  assert.ok(existsSync(path), `${path} is missing: run UPDATE_GOLDEN=1 node scripts/test.js ${import.meta.filename}`);
  assert.equal(content, readFileSync(path, 'utf8'), `${path} differs`);
}

const POLICY = `
rules:
  Web to Mongo:
    on: roles:mongodb
    direction: in
    protocol: tcp
    source: roles:web
    dport: 27017
  Monitoring:
    direction: in
    protocol: tcp
    source: roles:monitoring
    dport: 9100
`;

const host = (name: string, roles: string, v4: string, v6?: string): string =>
  `  - name: ${name}\n    environment: production\n    roles: [${roles}]\n    interfaces: { eth0: [${v4}${v6 === undefined ? '' : `, "${v6}"`}] }\n    lan: eth0\n`;

const BASE = [
  ...[1, 2, 3, 4].map((i) => host(`db-${i}`, 'mongodb', `10.0.2.${20 + i}`)),
  ...[1, 2, 3].map((i) => host(`web-${i}`, 'web', `10.0.1.${10 + i}`)),
  host('mon-1', 'monitoring', '10.0.9.1'),
  host('mon-2', 'monitoring', '10.0.9.2'),
];
const BEFORE = `hosts:\n${BASE.join('')}`;
/* web-7 joins (both families), web-3 leaves the role, mon-2 leaves the fleet. */
const AFTER = `hosts:\n${BASE.filter((h) => !h.includes('mon-2') && !h.includes('web-3')).join('')}${host('web-3', 'batch', '10.0.1.13')}${host('web-7', 'web', '10.0.1.17', '2001:db8::17')}`;

describe('plan: set membership over the fleet', () => {
  const plan = makePlan(compilerFor(POLICY, AFTER).compileAll(), compilerFor(POLICY, BEFORE).compileAll());
  const namer = namerOfHosts([...parseInventoryDocument(AFTER, 'after.yaml').hosts, ...parseInventoryDocument(BEFORE, 'before.yaml').hosts]);

  it('groups identical membership changes across hosts, names the hosts, totals per host and fleet', () => {
    assert.deepEqual(formatMembership(plan.membership, namer), [
      '+ web-7 (10.0.1.17, 2001:db8::17) in "Web to Mongo" on 4 hosts',
      '- mon-2 (10.0.9.2) in "Monitoring" on 8 hosts',
      '- web-3 (10.0.1.13) in "Web to Mongo" on 4 hosts',
    ]);
    assert.deepEqual(plan.totals.membership, { added: 2, removed: 2, hosts: 8 });
    assert.deepEqual(plan.hosts.find((h) => h.host === 'db-1')?.membership, { added: 2, removed: 2 });
    golden('membership.txt', `${formatPlan(plan, false, namer)}\n`);
  });

  it('JSON: the grouped changes with their hosts, and the totals', () => {
    golden('membership.json', toJson({ membership: plan.membership, totals: plan.totals, hosts: plan.hosts.map((h) => ({ host: h.host, status: h.status, membership: h.membership })) }));
    const web7 = plan.membership.find((m) => m.address === '10.0.1.17');
    assert.deepEqual(web7, { change: 'added', address: '10.0.1.17', rule: 'rule "Web to Mongo"', field: 'source', hosts: ['db-1', 'db-2', 'db-3', 'db-4'] });
  });

  it('an address without a host stays an address; a few hosts are named; a long list is cut without --verbose', () => {
    const few = formatMembership([{ change: 'added', address: '192.0.2.7', rule: 'failsafe in #1', field: 'source', hosts: ['db-1', 'db-2'] }]);
    assert.deepEqual(few, ['+ 192.0.2.7 in failsafe in #1 on db-1, db-2']);
    const many = Array.from({ length: 30 }, (_, i) => ({ change: 'added' as const, address: `192.0.2.${i}`, rule: 'rule "x"', field: 'source', hosts: ['db-1'] }));
    const text = formatPlan({ ...plan, membership: many }, false);
    assert.match(text, /\n {2}\.\.\. 10 more \(--verbose, or --format json\)\n/);
    assert.ok(!formatPlan({ ...plan, membership: many }, true).includes('more (--verbose'));
  });
});
