import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttributeValue, Host } from '../../src/inventory/types.ts';
import { HostIndex, type QueryContext } from '../../src/query/host-index.ts';
import { parseQuery } from '../../src/query/parser.ts';

function host(name: string, environment: string, roles: string[], tags: string[], attributes: Record<string, AttributeValue> = {}): Host {
  return { name, environment, roles, tags, interfaces: {}, users: {}, attributes, addresses: { v4: [], v6: [] } };
}

const hosts: Host[] = [
  host('web-1', 'production', ['webserver'], ['shop'], { net: { zone: 'dmz', vlans: [10, 20] }, cpus: 8, ssd: true }),
  host('web-2', 'production', ['webserver', 'api'], ['blog'], { net: { zone: 'dmz' }, cpus: 4 }),
  host('mongo-1', 'production', ['mongodb'], ['shop', 'blog'], { net: { zone: 'core' }, disks: [{ size: 100 }, { size: 200 }] }),
  host('mongo-2', 'staging', ['mongodb-arbiter'], ['shop'], { owner: 'Team A', empty: null }),
  host('Web-10', 'staging', ['WebServer'], [], { 'odd.key': 'x' }),
];
const index = new HostIndex(hosts);
const anywhere: QueryContext = { environment: null, self: null };
const names = (text: string, ctx: QueryContext = anywhere): string[] => index.select(parseQuery(text), ctx).map((h) => h.name);

test('exact terms on built-in fields', () => {
  assert.deepEqual(names('roles:webserver'), ['web-1', 'web-2', 'Web-10']);
  assert.deepEqual(names('name:mongo-1'), ['mongo-1']);
  assert.deepEqual(names('environment:staging'), ['mongo-2', 'Web-10']);
  assert.deepEqual(names('chef_environment:staging'), ['mongo-2', 'Web-10']);
  assert.deepEqual(names('tag:blog'), ['web-2', 'mongo-1']);
});

test('matching is case-insensitive', () => {
  assert.deepEqual(names('roles:WEBSERVER'), ['web-1', 'web-2', 'Web-10']);
  assert.deepEqual(names('name:web-10'), ['Web-10']);
  assert.deepEqual(names('owner:"team a"'), ['mongo-2']);
  assert.deepEqual(names('name:WEB-*'), ['web-1', 'web-2', 'Web-10']);
});

test('wildcards', () => {
  assert.deepEqual(names('roles:mongo*'), ['mongo-1', 'mongo-2']);
  assert.deepEqual(names('name:web-?'), ['web-1', 'web-2']);
  assert.deepEqual(names('name:*-1*'), ['web-1', 'mongo-1', 'Web-10']);
  assert.deepEqual(names('name:"web-?"'), []);
});

test('field:* selects the hosts that have the field', () => {
  assert.deepEqual(names('tags:*'), ['web-1', 'web-2', 'mongo-1', 'mongo-2']);
  assert.deepEqual(names('net:*'), ['web-1', 'web-2', 'mongo-1']);
  assert.deepEqual(names('empty:*'), []);
});

test('attributes: nested paths, arrays, numbers and booleans', () => {
  assert.deepEqual(names('net.zone:dmz'), ['web-1', 'web-2']);
  assert.deepEqual(names('net.vlans:20'), ['web-1']);
  assert.deepEqual(names('cpus:8'), ['web-1']);
  assert.deepEqual(names('ssd:true'), ['web-1']);
  assert.deepEqual(names('disks.size:200'), ['mongo-1']);
  assert.deepEqual(names('odd.key:x'), ['Web-10']);
});

test('*:*, AND, OR, NOT and precedence', () => {
  assert.equal(names('*:*').length, 5);
  assert.deepEqual(names('roles:webserver AND tags:shop'), ['web-1']);
  assert.deepEqual(names('roles:api OR roles:mongodb AND tags:shop'), ['web-2', 'mongo-1']);
  assert.deepEqual(names('(roles:api OR roles:mongodb) AND tags:blog'), ['web-2', 'mongo-1']);
  assert.deepEqual(names('NOT roles:webserver'), ['mongo-1', 'mongo-2']);
  assert.deepEqual(names('NOT *:*'), []);
});

test('empty results', () => {
  assert.deepEqual(names('roles:nothing'), []);
  assert.deepEqual(names('nosuchfield:x'), []);
  assert.deepEqual(names('nosuchfield:*'), []);
  assert.equal(index.evaluate(parseQuery('roles:nothing'), anywhere).isEmpty(), true);
});

test('environment scoping applies after NOT', () => {
  const production: QueryContext = { environment: 'production', self: null };
  assert.deepEqual(names('roles:webserver', production), ['web-1', 'web-2']);
  assert.deepEqual(names('NOT roles:webserver', production), ['mongo-1']);
  assert.deepEqual(names('*:*', { environment: 'Staging', self: null }), ['mongo-2', 'Web-10']);
  assert.deepEqual(names('*:*', { environment: 'nowhere', self: null }), []);
});

test('SAMETAG: hosts sharing a tag with self', () => {
  const self = hosts[0] as Host;
  assert.deepEqual(names('SAMETAG', { environment: null, self }), ['web-1', 'mongo-1', 'mongo-2']);
  assert.deepEqual(names('roles:mongo* AND SAMETAG', { environment: 'production', self }), ['mongo-1']);
  assert.deepEqual(names('SAMETAG', { environment: null, self: hosts[2] as Host }), ['web-1', 'web-2', 'mongo-1', 'mongo-2']);
});

test('SAMETAG: a host with no tags, or no self, matches nothing', () => {
  assert.deepEqual(names('SAMETAG', { environment: null, self: hosts[4] as Host }), []);
  assert.deepEqual(names('SAMETAG', anywhere), []);
  assert.deepEqual(names('NOT SAMETAG', { environment: 'staging', self: hosts[4] as Host }), ['mongo-2', 'Web-10']);
});

test('SAMETAG results depend on self, not on the first self seen', () => {
  const q = parseQuery('SAMETAG');
  assert.deepEqual(index.select(q, { environment: null, self: hosts[1] as Host }).map((h) => h.name), ['web-2', 'mongo-1']);
  assert.deepEqual(index.select(q, { environment: null, self: hosts[3] as Host }).map((h) => h.name), ['web-1', 'mongo-1', 'mongo-2']);
});

test('equal queries share cached results', () => {
  const ctx: QueryContext = { environment: 'production', self: null };
  const a = index.evaluate(parseQuery('role:webserver AND NOT tag:blog'), ctx);
  const b = index.evaluate(parseQuery('(roles:WebServer) && !tags:blog'), ctx);
  assert.equal(a, b);
});

test('knownField: built-ins and attribute paths some host has', () => {
  for (const field of ['name', 'environment', 'roles', 'tags', 'net', 'net.zone', 'disks.size', 'owner', 'odd.key']) {
    assert.equal(index.knownField(field), true, field);
  }
  for (const field of ['nosuchfield', 'net.nothing', 'empty', 'Net.zone']) assert.equal(index.knownField(field), false, field);
});

test('an empty inventory selects nothing', () => {
  assert.deepEqual(new HostIndex([]).select(parseQuery('*:*'), anywhere), []);
});

test('10,000 hosts × 200 rules evaluate (timed in npm run bench, not here)', () => {
  const fleet = Array.from({ length: 10_000 }, (_, i) =>
    host(`h-${i}`, `env-${i % 4}`, [`role-${i % 50}`, 'base'], [`tag-${i % 20}`], { rack: `r${i % 100}`, serial: `s-${i}` }),
  );
  const fleetIndex = new HostIndex(fleet);
  const rules = Array.from({ length: 200 }, (_, r) => parseQuery(`(roles:role-${r % 50} OR rack:r${r % 100}*) AND NOT serial:s-1?${r % 10} AND SAMETAG`));
  let selected = 0;
  for (const self of fleet) {
    for (const rule of rules) selected += fleetIndex.evaluate(rule, { environment: self.environment, self }).has(0) ? 1 : 0;
  }
  assert.ok(selected > 0);
});
