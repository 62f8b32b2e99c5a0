/** Fleet facts validation (src/fleet/published.ts), the etcd:// URL, the key layout and the policy record. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/diagnostics.ts';
import { fleetKeys, nameUnder } from '../../src/fleet/keys.ts';
import { decodePolicy, encodePolicy } from '../../src/fleet/policy-record.ts';
import { checkEntry, trustedHosts, type HostEntry } from '../../src/fleet/published.ts';
import { parseEtcdUrl } from '../../src/fleet/url.ts';
import { hostState } from '../../src/app/fleet-report.ts';

const keys = fleetKeys('/palisade');
const entry = (name: string, facts: object, createRevision: number, key = keys.host(name)): HostEntry => ({
  key,
  value: JSON.stringify({ name, ...facts }),
  createRevision,
  leased: true,
});
const trusted = (...entries: HostEntry[]) => trustedHosts(entries.map((e) => checkEntry(e, keys.hosts)));

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

describe('published facts', () => {
  it('trusts valid facts and sorts hosts by name', () => {
    const { hosts, diagnostics } = trusted(entry('web-2', { interfaces: { eth0: ['10.0.0.2'] } }, 5), entry('web-1', { interfaces: { eth0: ['10.0.0.1'] }, roles: ['web'] }, 7));
    assert.deepEqual(diagnostics, []);
    assert.deepEqual(hosts.map((h) => h.name), ['web-1', 'web-2']);
    assert.deepEqual(hosts[0]?.addresses.v4, ['10.0.0.1']);
  });

  for (const [what, address] of [['a network', '0.0.0.0/0'], ['loopback', '127.0.0.1'], ['unspecified', '::']] as const) {
    it(`rejects a host claiming ${what}, with a warning naming the key`, () => {
      const { hosts, diagnostics } = trusted(entry('evil', { interfaces: { eth0: [address] } }, 3), entry('ok', { interfaces: { eth0: ['10.0.0.9'] } }, 4));
      assert.deepEqual(hosts.map((h) => h.name), ['ok']);
      assert.equal(diagnostics.length, 1);
      assert.equal(diagnostics[0]?.severity, 'warning');
      assert.equal(diagnostics[0]?.file, '/palisade/hosts/evil');
      assert.match(diagnostics[0]?.message ?? '', /rejected, not trusted/);
    });
  }

  it("rejects a host claiming another host's address: the earlier-created key keeps it", () => {
    const { hosts, diagnostics } = trusted(entry('late', { interfaces: { eth0: ['10.0.0.1', '10.0.0.5'] } }, 9), entry('early', { interfaces: { eth0: ['10.0.0.1'] } }, 2));
    assert.deepEqual(hosts.map((h) => h.name), ['early']);
    assert.match(diagnostics[0]?.message ?? '', /address 10\.0\.0\.1 belongs to early/);
    assert.equal(diagnostics[0]?.file, '/palisade/hosts/late');
  });

  it('rejects facts that name another host, bad JSON and unknown fields', () => {
    const { hosts, diagnostics } = trusted(
      entry('web-1', { interfaces: {} }, 1, keys.host('web-9')),
      { key: keys.host('x'), value: '{nope', createRevision: 2, leased: true },
      entry('y', { owner: 'me' }, 3),
    );
    assert.deepEqual(hosts, []);
    assert.deepEqual(diagnostics.map((d) => d.file), ['/palisade/hosts/web-9', '/palisade/hosts/x', '/palisade/hosts/y']);
    assert.match(diagnostics[0]?.message ?? '', /the facts name host "web-1", not "web-9"/);
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
  const current = { policy: 'p1', inventory: 'i1' };
  const status = (over: object) => JSON.stringify({ host: 'h', revision: 7, policyRevision: 'p1', inventoryRevision: 'i1', hash: 'x', mode: 'full', appliedAt: 't', error: null, errorAt: null, ...over });
  it('tells ok, lagging, failing, missing, static and invalid apart', () => {
    assert.equal(hostState(true, status({}), current).state, 'ok');
    assert.equal(hostState(true, status({ inventoryRevision: 'i0' }), current).state, 'lagging');
    assert.equal(hostState(true, status({ policyRevision: 'p0' }), current).state, 'lagging');
    assert.equal(hostState(true, status({ error: 'nft failed', errorAt: 't' }), current).state, 'failing');
    assert.equal(hostState(true, undefined, current).state, 'missing');
    assert.equal(hostState(null, status({}), current).state, 'missing');
    assert.equal(hostState(false, undefined, current).state, 'static');
    assert.equal(hostState(true, '{"host": 1}', current).state, 'invalid');
  });
});
