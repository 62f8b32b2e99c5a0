/** Fleet facts validation (src/fleet/published.ts), the etcd:// URL, the key layout and the policy record. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/diagnostics.ts';
import { fleetKeys, nameUnder } from '../../src/fleet/keys.ts';
import { decodePolicy, encodePolicy } from '../../src/fleet/policy-record.ts';
import { checkObservation, checkRegistration, trustedHosts, type KeyEntry } from '../../src/fleet/published.ts';
import { encodeRegistration, RegistrationError } from '../../src/fleet/registry.ts';
import { parseEtcdUrl } from '../../src/fleet/url.ts';
import { hostState } from '../../src/app/fleet-report.ts';

const keys = fleetKeys('/palisade');
const reg = (name: string, fields: object, createRevision = 1, leased = false): KeyEntry => ({ key: keys.host(name), value: JSON.stringify({ name, ...fields }), createRevision, leased });
const obs = (name: string, fields: object, key = keys.member(name)): KeyEntry => ({ key, value: JSON.stringify({ name, ...fields }), createRevision: 1, leased: true });

/** The trusted fleet of registrations, observations and claims (address -> claim revision). */
function trusted(registrations: KeyEntry[], observations: KeyEntry[] = [], claims: Record<string, Record<string, number>> = {}) {
  const observed = new Map(observations.map((e) => [e.key.slice(keys.members.length), checkObservation(e, e.key.slice(keys.members.length))]));
  return trustedHosts({
    registrations: registrations.map((e) => checkRegistration(e, e.key.slice(keys.hosts.length))),
    observations: observed,
    claims: new Map(Object.entries(claims).map(([name, c]) => [name, new Map(Object.entries(c))])),
  });
}

describe('etcd:// URL and keys', () => {
  it('parses members and prefix, with the default prefix', () => {
    assert.deepEqual(parseEtcdUrl('etcd://10.0.0.1:2379,etcd-2:2379/fleet/a/'), { endpoints: ['10.0.0.1:2379', 'etcd-2:2379'], prefix: '/fleet/a' });
    assert.deepEqual(parseEtcdUrl('etcd://[::1]:2379'), { endpoints: ['[::1]:2379'], prefix: '/palisade' });
    assert.throws(() => parseEtcdUrl('etcd:///palisade'), InputError);
    assert.throws(() => parseEtcdUrl('etcd://host/palisade'), /"host" is not HOST:PORT/);
  });

  it('lays keys out under the prefix', () => {
    assert.equal(keys.host('web-1'), '/palisade/hosts/web-1');
    assert.equal(keys.statusOf('web-1'), '/palisade/status/web-1');
    assert.equal(keys.policy, '/palisade/policy');
    assert.equal(nameUnder('/palisade/hosts/web-1', keys.hosts), 'web-1');
    assert.equal(nameUnder('/palisade/hosts/a/b', keys.hosts), null);
  });
});

describe('registrations and observations', () => {
  const web = (createRevision = 1) => reg('web-1', { roles: ['web'], networks: ['10.0.1.0/24'], lan: 'eth0' }, createRevision);
  it("takes identity from the registration and addresses from the observation, inside the registered networks", () => {
    const { hosts, diagnostics } = trusted([web()], [obs('web-1', { interfaces: { eth0: ['10.0.1.5', '203.0.113.66'] }, lan: 'eth0' })], { 'web-1': { '10.0.1.5': 3, '203.0.113.66': 4 } });
    assert.deepEqual(hosts.map((h) => [h.name, h.roles, h.addresses.v4]), [['web-1', ['web'], ['10.0.1.5']]]);
    assert.match(diagnostics[0]?.message ?? '', /203\.0\.113\.66 is outside the networks its registration allows \(10\.0\.1\.0\/24\)/);
    assert.equal(diagnostics[0]?.file, keys.member('web-1'));
  });

  it('refuses an observation that names roles, tags or an environment (finding 1)', () => {
    const { hosts, diagnostics } = trusted([web()], [obs('web-1', { roles: ['bastion'], interfaces: { eth0: ['10.0.1.5'] } })], { 'web-1': { '10.0.1.5': 3 } });
    assert.deepEqual(hosts[0]?.roles, ['web']);
    assert.deepEqual(hosts[0]?.addresses.v4, []);
    assert.match(diagnostics[0]?.message ?? '', /an agent publishes only .*not roles/);
  });

  it('keeps at most max_addresses observed addresses, the oldest claims, and never an unclaimed one', () => {
    const many = Array.from({ length: 300 }, (_, i) => `10.0.1.${i % 250}`).slice(0, 250);
    const claims = Object.fromEntries(many.map((a, i) => [a, 1000 - i]));
    const { hosts, diagnostics } = trusted([web()], [obs('web-1', { interfaces: { eth0: [...many, '10.0.1.251'] }, lan: 'eth0' })], { 'web-1': claims });
    assert.equal(hosts[0]?.addresses.v4.length, 16);
    assert.ok(hosts[0]?.addresses.v4.includes('10.0.1.249'), 'the oldest claim is kept');
    assert.ok(!hosts[0]?.addresses.v4.includes('10.0.1.251'), 'an address without a claim key is not');
    assert.ok(diagnostics.some((d) => /250 addresses observed, at most 16 kept/.test(d.message)));
  });

  it('an observation without a registration is unregistered and in no set; a leased registration is refused', () => {
    const result = trusted([reg('db-1', { roles: ['db'] }, 1, true)], [obs('ghost', { interfaces: { eth0: ['10.0.1.7'] } })], { ghost: { '10.0.1.7': 2 } });
    assert.deepEqual(result.hosts, []);
    assert.deepEqual(result.unregistered, ['ghost']);
    assert.ok(result.diagnostics.some((d) => /never on an agent lease/.test(d.message)));
    assert.ok(result.diagnostics.some((d) => /unregistered: host "ghost"/.test(d.message)));
  });

  it('first claim of the address wins, not the age of the key; the loser keeps its other addresses (finding 2)', () => {
    const db = reg('db-1', { roles: ['db'], networks: ['10.0.1.0/24'] }, 1);
    const { hosts, conflicts } = trusted(
      [db, web(5)],
      [obs('db-1', { interfaces: { eth0: ['10.0.1.9', '10.0.1.5'] } }), obs('web-1', { interfaces: { eth0: ['10.0.1.5'] }, lan: 'eth0' })],
      { 'db-1': { '10.0.1.9': 6, '10.0.1.5': 20 }, 'web-1': { '10.0.1.5': 7 } },
    );
    assert.deepEqual(Object.fromEntries(hosts.map((h) => [h.name, h.addresses.v4])), { 'db-1': ['10.0.1.9'], 'web-1': ['10.0.1.5'] });
    assert.deepEqual(conflicts, [{ address: '10.0.1.5', owner: 'web-1', pinned: false, loser: 'db-1' }]);
  });

  it('a pinned address beats any claim', () => {
    const nas = reg('nas', { interfaces: { lan: ['10.0.1.5'] }, lan: 'lan' }, 9);
    const { hosts, conflicts } = trusted([web(), nas], [obs('web-1', { interfaces: { eth0: ['10.0.1.5'] }, lan: 'eth0' })], { 'web-1': { '10.0.1.5': 2 } });
    assert.deepEqual(Object.fromEntries(hosts.map((h) => [h.name, h.addresses.v4])), { nas: ['10.0.1.5'], 'web-1': [] });
    assert.equal(conflicts[0]?.pinned, true);
  });

  it('does not parse a value larger than the limit', () => {
    const big = obs('web-1', { interfaces: { eth0: Array.from({ length: 29_886 }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`) } });
    const { diagnostics } = trusted([web()], [big]);
    assert.match(diagnostics[0]?.message ?? '', /bytes, more than the 65536 a value may have/);
  });

  for (const [what, address] of [['a network', '0.0.0.0/0'], ['loopback', '127.0.0.1'], ['unspecified', '::']] as const) {
    it(`rejects an observation of ${what}, with a warning naming the key`, () => {
      const { hosts, diagnostics } = trusted([reg('evil', { networks: ['0.0.0.0/0', '::/0'] })], [obs('evil', { interfaces: { eth0: [address] } })]);
      assert.deepEqual(hosts[0]?.addresses, { v4: [], v6: [] });
      assert.equal(diagnostics[0]?.file, keys.member('evil'));
      assert.match(diagnostics[0]?.message ?? '', /rejected, not trusted/);
    });
  }

  it('rejects a registration naming another host, bad JSON and unknown fields', () => {
    const { hosts, diagnostics } = trusted([
      { key: keys.host('web-9'), value: JSON.stringify({ name: 'web-1' }), createRevision: 1, leased: false },
      { key: keys.host('x'), value: '{nope', createRevision: 2, leased: false },
      reg('y', { owner: 'me' }, 3),
    ]);
    assert.deepEqual(hosts, []);
    assert.deepEqual(diagnostics.map((d) => d.file), ['/palisade/hosts/web-9', '/palisade/hosts/x', '/palisade/hosts/y']);
    assert.match(diagnostics[0]?.message ?? '', /the registration names host "web-1", not "web-9"/);
    assert.match(diagnostics[2]?.message ?? '', /unknown registration field "owner"/);
  });

  it('encodes registrations as readers check them', () => {
    assert.throws(() => encodeRegistration(keys, { name: 'a', networks: ['10.0.0.0/33'] }), RegistrationError);
    const { registration } = encodeRegistration(keys, { name: 'a', roles: ['web'], networks: ['10.0.1.7/24'] });
    assert.deepEqual(registration.networks.map((n) => n.text), ['10.0.1.0/24']);
    assert.equal(registration.agent, true);
  });
});

describe('policy record', () => {
  const text = "rules:\n  SSH:\n    direction: in\n    source: 10.0.0.0/8\n    protocol: tcp\n    dport: 22\n";
  it('stores base names and texts, and readers parse them again', () => {
    const stored = encodePolicy([{ path: '/some/dir/policy.yaml', text }]);
    assert.deepEqual(JSON.parse(stored).files, [{ path: 'policy.yaml', text }]);
    const loaded = decodePolicy(stored, '/palisade/policy');
    assert.deepEqual(loaded.policy.rules.map((r) => r.name), ['SSH']);
  });

  it('refuses a stored policy that does not validate', () => {
    const stored = encodePolicy([{ path: 'p.yaml', text: 'rules:\n  Bad:\n    protocol: nope\n' }]);
    assert.throws(() => decodePolicy(stored, '/palisade/policy'), InputError);
    assert.throws(() => decodePolicy('[]', '/palisade/policy'), /not a policy record/);
  });
});

describe('fleet status states', () => {
  const current = { policy: 'p1' };
  const status = (over: object) => JSON.stringify({ host: 'h', revision: 7, policyRevision: 'p1', inventoryRevision: 'i1', hash: 'x', mode: 'full', appliedAt: 't', error: null, errorAt: null, ...over });
  const agent = { registered: true, agent: true, member: true, alive: true, conflict: false };
  it('tells every state apart, worst first', () => {
    assert.equal(hostState(agent, status({}), current).state, 'ok');
    assert.equal(hostState(agent, status({ inventoryRevision: 'i0' }), current).state, 'ok', "inventory revisions are per host: an agent is not told of hosts its rules do not select");
    assert.equal(hostState(agent, status({ policyRevision: 'p0' }), current).state, 'lagging');
    assert.equal(hostState({ ...agent, conflict: true }, status({}), current).state, 'conflict');
    assert.equal(hostState(agent, status({ drift: true }), current).state, 'drifted');
    assert.equal(hostState(agent, status({ error: 'nft failed', errorAt: 't' }), current).state, 'failing');
    assert.equal(hostState({ ...agent, alive: false }, status({}), current).state, 'down');
    assert.equal(hostState({ ...agent, member: false, alive: false }, status({}), current).state, 'missing');
    assert.equal(hostState(agent, undefined, current).state, 'missing');
    assert.equal(hostState({ ...agent, registered: false }, status({}), current).state, 'unregistered');
    assert.equal(hostState({ ...agent, registered: false, member: false }, status({}), current).state, 'missing');
    assert.equal(hostState({ registered: true, agent: false, member: false, alive: false, conflict: false }, undefined, current).state, 'static');
    assert.equal(hostState(agent, '{"host": 1}', current).state, 'invalid');
  });
});
