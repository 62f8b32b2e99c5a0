/** Which probes `lab probe` makes and what it predicts for them: pure, from inline policies. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseInventoryDocument } from '../../src/inventory/document.ts';
import { ANY_PORT, anonymousUid, planProbes, type Probe } from '../../src/lab/probe-plan.ts';
import { SMALL_INVENTORY, compilerFor } from '../helpers/compiler.ts';

function plan(policy: string, unavailableUsers: Array<{ name: string; uid: number }> = [], probeIcmp = true) {
  const compiler = compilerFor(policy, SMALL_INVENTORY);
  const hosts = parseInventoryDocument(SMALL_INVENTORY, 'inventory.yaml').hosts;
  return planProbes({ compiler, hosts, unavailableUsers, extraPorts: [], probeIcmp });
}

const find = (probes: readonly Probe[], q: Partial<Probe>): Probe[] =>
  probes.filter((p) => Object.entries(q).every(([k, v]) => p[k as keyof Probe] === v));

const SETTINGS = `settings: { input_drop: true, output_drop: true, failsafe: { in: [], out: [] } }\n`;

describe('probe plan', () => {
  it('probes the ports an inbound rule opens, over each family both ends have, with explain\'s prediction', () => {
    const p = plan(`${SETTINGS}rules:
  Mongo:
    on: roles:mongodb
    direction: in
    protocol: tcp
    source: roles:web
    dport: 27017
  Web out:
    on: roles:web
    direction: out
    protocol: tcp
    destination: roles:mongodb
    dport: 27017
`);
    const toDb = find(p.probes, { source: 'web-1', destination: 'db-1', port: 27017 });
    assert.deepEqual(toDb.map((x) => [x.family, x.predicted, x.sourceAddress, x.destinationAddress]), [
      [4, true, '10.0.1.11', '10.0.2.21'],
      [6, true, '2001:db8::11', '2001:db8::21'],
    ]);
    assert.deepEqual(find(p.probes, { source: 'web-2', destination: 'db-1', port: 27017 }).map((x) => x.family), [4]);
    /* The other environment: the rule's query is limited to the carrier's environment. */
    assert.equal(find(p.probes, { source: 'web-s', destination: 'db-1', port: 27017 })[0]?.predicted, false);
    /* Not the destination's rule: mon-1 -> web-1 tries 27017 only because web-1 would send there. */
    assert.equal(find(p.probes, { source: 'mon-1', destination: 'web-1', port: 27017 }).length, 0);
  });

  it('tries both ends of port ranges, each element of lists, and "any port" rules on a sample port', () => {
    const p = plan(`${SETTINGS}rules:
  Range:
    on: name:db-1
    direction: in
    protocol: tcp
    source: roles:web
    dport: ["8000:8010", 9000]
  Anything:
    on: name:db-1
    direction: in
    protocol: all
    source: roles:web
`);
    const ports = new Set(find(p.probes, { source: 'web-1', destination: 'db-1' }).map((x) => `${x.protocol}/${x.port}`));
    for (const expected of ['tcp/8000', 'tcp/8010', 'tcp/9000', `tcp/${ANY_PORT}`, `udp/${ANY_PORT}`, 'icmp/null', 'icmpv6/null']) assert.ok(ports.has(expected), expected);
    assert.ok(!ports.has('tcp/8005'));
  });

  it('adds ports no rule opens, predicted closed, and ICMP only over its family', () => {
    const p = plan(`${SETTINGS}rules:
  Ping:
    direction: in
    protocol: icmp
    source: roles:monitoring
`);
    assert.deepEqual(p.closedPorts.map((c) => `${c.protocol}/${c.port}`), ['tcp/9', 'tcp/1023', 'udp/9']);
    assert.ok(find(p.probes, { port: 9 }).every((x) => !x.predicted));
    const pings = find(p.probes, { source: 'mon-1', protocol: 'icmp' });
    assert.ok(pings.length > 0 && pings.every((x) => x.family === 4));
    /* mon-1 has output_drop and no outbound ICMP rule: denied on its way out. */
    assert.ok(pings.every((x) => !x.predicted));
  });

  it('tries a per-user outbound port as that user and as a uid no rule names', () => {
    const p = plan(`${SETTINGS}rules:
  In:
    on: roles:mongodb
    direction: in
    protocol: tcp
    source: roles:web
    dport: 27017
  Out:
    on: roles:web
    direction: out
    protocol: tcp
    user: www-data
    destination: roles:mongodb
    dport: 27017
`);
    const probes = find(p.probes, { source: 'web-1', destination: 'db-1', port: 27017, family: 4 });
    assert.deepEqual(probes.map((x) => [x.user, x.uid, x.predicted]).sort(), [
      ['www-data', 33, true],
      [null, 0, false],
    ].sort());
  });

  it('skips probes as users the lab could not provide, and says so', () => {
    const p = plan(
      `${SETTINGS}rules:
  Out:
    on: roles:web
    direction: out
    protocol: tcp
    user: www-data
    destination: roles:mongodb
    dport: 27017
`,
      [{ name: 'www-data', uid: 33 }],
    );
    assert.equal(find(p.probes, { user: 'www-data' }).length, 0);
    assert.ok(p.notes.some((n) => n.includes('www-data')));
  });

  it('leaves ICMP out, with a note, when ping is not installed', () => {
    const p = plan(`${SETTINGS}rules:
  Ping:
    direction: in
    protocol: icmp
    source: roles:monitoring
`, [], false);
    assert.equal(find(p.probes, { protocol: 'icmp' }).length, 0);
    assert.deepEqual(p.notes, ['ping is not installed: ICMP and ICMPv6 are not probed']);
  });

  it('notes the protocols it cannot probe', () => {
    const p = plan(`${SETTINGS}rules:
  VRRP:
    on: roles:web
    direction: in
    protocol: vrrp
    source: roles:web
`);
    assert.deepEqual(p.notes, ['rule "VRRP": vrrp is not probed (no socket to test it with)']);
  });

  it('picks an anonymous uid that no rule of the source names', () => {
    const compiler = compilerFor(
      `${SETTINGS}rules:
  Root out:
    on: roles:web
    direction: out
    protocol: tcp
    user: root
    destination: roles:mongodb
    dport: 22
`,
      SMALL_INVENTORY,
    );
    assert.equal(anonymousUid(compiler.compile('web-1')), 65534);
    assert.equal(anonymousUid(compiler.compile('db-1')), 0);
  });
});
