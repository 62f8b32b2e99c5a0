/** validateFleet: what push checks before writing, host by host, without keeping the rulesets. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateFleet } from '../../src/app/push.ts';
import { parseInventoryDocument } from '../../src/inventory/document.ts';
import { parsePolicyFiles } from '../../src/policy/load.ts';

const inventory = parseInventoryDocument(
  JSON.stringify({ hosts: Array.from({ length: 50 }, (_, i) => ({ name: `h${i}`, roles: [i % 2 === 0 ? 'web' : 'db'], interfaces: { eth0: [`10.0.0.${i + 1}`] }, lan: 'eth0' })) }),
  'fleet.json',
);
const policy = (text: string) => parsePolicyFiles([{ path: 'policy.yaml', text }]).policy;

test('every host is compiled and guarded, each counted once, in inventory order', () => {
  const seen: number[] = [];
  const problems = validateFleet({ policy: policy('rules:\n  Web:\n    on: roles:web\n    direction: in\n    protocol: tcp\n    source: roles:db\n    dport: 443\n'), inventory, names: new Map() }, { onHost: (done, total) => seen.push(done, total) });
  assert.deepEqual(problems, []);
  assert.deepEqual(seen, Array.from({ length: 50 }, (_, i) => [i + 1, 50]).flat());
});

test('a policy that would lock the admins out is a problem on every host it reaches, named', () => {
  const lockout = policy('settings: { input_drop: true, failsafe: { in: [] } }\nrules:\n  Web:\n    on: roles:web\n    direction: in\n    protocol: tcp\n    source: 10.0.0.0/8\n    dport: 443\n');
  const problems = validateFleet({ policy: lockout, inventory, names: new Map() });
  assert.equal(problems.length, 50);
  assert.match(problems[0]?.message ?? '', /would drop SSH from the admin network 0\.0\.0\.0\/0/);
  assert.deepEqual(validateFleet({ policy: lockout, inventory, names: new Map() }, { adminNetwork: ['192.0.2.0/24'] }).map((p) => p.host).slice(0, 2), ['h0', 'h1']);
});
