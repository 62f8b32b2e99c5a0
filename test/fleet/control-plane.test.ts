/** The automatic control-plane failsafe (src/compile/control-plane.ts) and push's fleet guards (src/fleet/guards.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FleetCompiler } from '../../src/compile/compile.ts';
import { evaluateChain } from '../../src/explain/evaluate.ts';
import { controlPlaneOf } from '../../src/fleet/control-plane.ts';
import { defaultAdminNetworks, fleetGuardProblems, representative } from '../../src/fleet/guards.ts';
import { parseInventoryDocument } from '../../src/inventory/document.ts';
import { parsePolicyFiles } from '../../src/policy/load.ts';

/** The bundled shop policy's shape: outbound dropped, nothing allows the agents' etcd traffic, no SSH failsafe. */
const POLICY = `settings: { input_drop: true, output_drop: true, failsafe: { in: [], out: [] } }
rules:
  Web:
    on: roles:web
    direction: in
    protocol: tcp
    source: 10.0.0.0/8
    dport: 443
`;
const INVENTORY = `hosts:
  - { name: web-1, roles: [web], interfaces: { eth0: [10.0.1.11] }, lan: eth0 }
  - { name: etcd-1, roles: [etcd], interfaces: { eth0: [10.0.0.5] }, lan: eth0 }
  - { name: etcd-2, roles: [etcd], interfaces: { eth0: [10.0.0.6] }, lan: eth0 }
`;
const policy = parsePolicyFiles([{ path: 'policy.yaml', text: POLICY }]).policy;
const inventory = parseInventoryDocument(INVENTORY, 'inventory.yaml');
const packet = { protocol: 'tcp' as const, sport: 40000, iif: null, oif: null, uid: 0, family: 4 as const };

describe('automatic etcd failsafe', async () => {
  const controlPlane = await controlPlaneOf(['10.0.0.5:2379', '10.0.0.6:2379', '127.0.0.1:2379']);
  const compiler = new FleetCompiler({ policy, inventory, names: new Map(), controlPlane });

  it('lets every host reach the etcd members, whatever output_drop says', () => {
    const rs = compiler.compile('web-1');
    for (const daddr of ['10.0.0.5', '10.0.0.6']) {
      const verdict = evaluateChain(rs, 'output', { ...packet, saddr: '10.0.1.11', daddr, dport: 2379 });
      assert.equal(verdict.accepted, true, daddr);
      assert.equal(verdict.rule?.origin.kind, 'failsafe');
    }
    assert.equal(evaluateChain(rs, 'output', { ...packet, saddr: '10.0.1.11', daddr: '10.0.0.7', dport: 2379 }).accepted, false, 'only the members');
    assert.equal(evaluateChain(rs, 'input', { ...packet, saddr: '10.0.1.12', daddr: '10.0.1.11', dport: 2379 }).accepted, false, 'a non-member opens no etcd port');
  });

  it('opens a member: client port from anywhere, peer port from and to the other members', () => {
    const rs = compiler.compile('etcd-1');
    assert.equal(evaluateChain(rs, 'input', { ...packet, saddr: '10.0.1.11', daddr: '10.0.0.5', dport: 2379 }).accepted, true);
    assert.equal(evaluateChain(rs, 'input', { ...packet, saddr: '10.0.0.6', daddr: '10.0.0.5', dport: 2380 }).accepted, true);
    assert.equal(evaluateChain(rs, 'input', { ...packet, saddr: '10.0.1.11', daddr: '10.0.0.5', dport: 2380 }).accepted, false);
    assert.equal(evaluateChain(rs, 'output', { ...packet, saddr: '10.0.0.5', daddr: '10.0.0.6', dport: 2380 }).accepted, true);
  });

  it('push guards: SSH from the admin networks and the etcd traffic of every host', () => {
    const rulesets = compiler.compileAll();
    const problems = fleetGuardProblems(rulesets, inventory.hosts, defaultAdminNetworks(policy.settings.failsafe.in), controlPlane);
    assert.deepEqual(problems.map((p) => p.host).sort(), ['etcd-1', 'etcd-2', 'web-1']);
    assert.match(problems[0]?.message ?? '', /would drop SSH from the admin network 0\.0\.0\.0\/0/);
    const bare = new FleetCompiler({ policy, inventory, names: new Map() }).compileAll();
    const etcd = fleetGuardProblems(bare, inventory.hosts, [], controlPlane);
    assert.ok(etcd.some((p) => /would drop its agent's etcd traffic \(tcp -> 10\.0\.0\.5:2379/.test(p.message)), 'without the automatic failsafe, the guard catches it');
    assert.equal(representative('192.0.2.0/24'), '192.0.2.1');
    assert.equal(representative('2001:db8::7/128'), '2001:db8::7');
  });
});
