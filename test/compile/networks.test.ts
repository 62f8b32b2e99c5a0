import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { AddressOrder, networksContain, normaliseNetworks } from '../../src/compile/networks.ts';

test('addresses are deduplicated and sorted numerically, not as text', () => {
  assert.deepEqual(normaliseNetworks(['10.0.0.10', '10.0.0.9', '10.0.0.10', '9.255.0.1'], 4), ['9.255.0.1', '10.0.0.9', '10.0.0.10']);
});

test('entries inside a listed network are dropped, so interval sets never overlap', () => {
  assert.deepEqual(normaliseNetworks(['10.0.1.11', '10.0.1.0/24', '10.0.0.0/16', '10.1.0.1', '192.168.0.0/24'], 4), [
    '10.0.0.0/16',
    '10.1.0.1',
    '192.168.0.0/24',
  ]);
});

test('single-host prefixes are written as plain addresses', () => {
  assert.deepEqual(normaliseNetworks(['10.4.76.2/32', '10.4.76.3'], 4), ['10.4.76.2', '10.4.76.3']);
  assert.deepEqual(normaliseNetworks(['2001:db8::11/128', '2001:db8::/64', '2001:db9::1'], 6), ['2001:db8::/64', '2001:db9::1']);
});

test('adjacent networks are both kept (they do not overlap)', () => {
  assert.deepEqual(normaliseNetworks(['10.0.1.0/24', '10.0.0.0/24'], 4), ['10.0.0.0/24', '10.0.1.0/24']);
});

test('membership: exact addresses and networks, per family', () => {
  const elements = ['10.0.0.0/16', '192.0.2.7'];
  assert.equal(networksContain(elements, '10.0.200.1', 4), true);
  assert.equal(networksContain(elements, '192.0.2.7', 4), true);
  assert.equal(networksContain(elements, '192.0.2.8', 4), false);
  assert.equal(networksContain(['2001:db8::/32'], '2001:db8:1::5', 6), true);
  assert.equal(networksContain(['2001:db8::/32'], '10.0.0.1', 6), false);
});

test("hosts' addresses put in order once give what normaliseNetworks gives for any subset of the hosts", () => {
  const v4 = fc.tuple(fc.constantFrom(9, 10, 192), fc.nat(3), fc.nat(255)).map(([a, b, c]) => `${a}.0.${b}.${c}`);
  const v6 = fc.tuple(fc.constantFrom('2001:db8', '2001:DB8', 'fd00'), fc.nat(3), fc.nat(0xffff)).map(([p, b, c]) => `${p}:0:${b}::${c.toString(16)}`);
  for (const [family, address] of [[4, v4], [6, v6]] as const) {
    fc.assert(
      fc.property(fc.array(fc.array(address, { maxLength: 3 }), { maxLength: 30 }), fc.array(fc.nat(40)), (hosts, picked) => {
        const order = AddressOrder.of(hosts, family);
        assert.ok(order !== null);
        const positions = picked.filter((i) => i < hosts.length);
        assert.deepEqual(order.elements(positions), normaliseNetworks(positions.flatMap((i) => hosts[i] ?? []), family));
      }),
    );
  }
});

test('addresses with a prefix are not put in a host order (normalised set by set instead)', () => {
  assert.equal(AddressOrder.of([['10.0.0.1'], ['10.0.0.0/24']], 4), null);
});
