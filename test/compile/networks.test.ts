import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networksContain, normaliseNetworks } from '../../src/compile/networks.ts';

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
