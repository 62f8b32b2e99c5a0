import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { hostAddressOf, parseHostAddress, plainAddress } from '../../src/inventory/address.ts';

/* Forms at the edges of the plain fast path: each must be judged exactly as ipaddr.js's general parser judges it. */
const EDGES = [
  '10.0.0.1', '0.0.0.0', '127.0.0.1', '255.255.255.255', '224.0.0.1', '169.254.1.1', '010.0.0.1', '1.2.3.256', '1.2.3', '1.2.3.4.5', '1.2.3.4 ',
  '2001:db8::1', '2001:DB8::1', '::', '::1', 'fe80::1', '::ffff:10.0.0.1', '::ffff:a00:1', '64:ff9b::a00:1', '2001:db8::1%eth0', '1:2:3:4:5:6:7:8',
  '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '1::2::3', ':::', '1:2:3:4:5:6:7:8:9', '2001:db8:0:0:0:0:0:1', '02001:db8::1', 'ff02::1', ':1:2:3:4:5:6:7', '1:',
];

test('the plain fast path judges every address as the general parser does (hostile and edge forms included)', () => {
  for (const value of EDGES) assert.deepEqual(parseHostAddress(value), hostAddressOf(value), value);
  const v4ish = fc.stringMatching(/^[0-9.]{1,16}$/);
  const v6ish = fc.stringMatching(/^[0-9a-fA-F:.%/]{1,42}$/);
  const grouped = fc.array(fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16)), { minLength: 0, maxLength: 9 }).chain((parts) =>
    fc.nat(parts.length).map((gap) => [...parts.slice(0, gap), ...(gap % 2 === 0 ? [''] : []), ...parts.slice(gap)].join(':')),
  );
  fc.assert(fc.property(fc.oneof(v4ish, v6ish, grouped), (value) => assert.deepEqual(parseHostAddress(value), hostAddressOf(value), value)), { numRuns: 5000 });
});

test('a plain address reads as ipaddr.js reads it: the same number and canonical text (what set elements are built from)', () => {
  const check = (value: string): void => {
    const plain = plainAddress(value);
    if (plain === null) return;
    const address = ipaddr.parse(value);
    const number = address.toByteArray().reduce((n, byte) => (n << 8n) | BigInt(byte), 0n);
    assert.deepEqual(plain, { family: address.kind() === 'ipv4' ? 'v4' : 'v6', value: number, text: address.toString() }, value);
  };
  for (const value of EDGES) check(value);
  const bytes = (n: number) => fc.array(fc.integer({ min: 0, max: 255 }), { minLength: n, maxLength: n });
  const v4 = bytes(4).map((b) => b.join('.'));
  const v6 = bytes(16).chain((b) => {
    const address = ipaddr.fromByteArray(b) as ipaddr.IPv6;
    const padded = address.parts.map((group) => group.toString(16).padStart(4, '0')).join(':');
    return fc.constantFrom(address.toRFC5952String(), address.toNormalizedString(), padded);
  });
  fc.assert(fc.property(fc.oneof(v4, v6), (value) => {
    assert.notEqual(plainAddress(value), null, value);
    check(value);
  }), { numRuns: 5000 });
  for (const value of ['01.2.3.4', '1.2.3', '256.1.1.1', 'FE80::1', '::ffff:1.2.3.4', '1::2::3', '10.0.0.0/8', '2001:db8::1%eth0']) assert.equal(plainAddress(value), null, value);
});

test('host addresses that are no one machine are still refused', () => {
  for (const value of ['127.0.0.1', '0.0.0.0', '255.255.255.255', '224.0.0.1', '::1', '::', 'fe80::1', '64:ff9b::a00:1', '::ffff:a00:1', '2001:db8::1%eth0', '10.0.0.0/8']) {
    assert.equal(parseHostAddress(value).ok, false, value);
  }
  assert.deepEqual(parseHostAddress('2001:db8:0:0:0:0:0:1'), { ok: true, family: 'v6', text: '2001:db8::1' });
});

test('the fast path agrees with the general parser at the edges of the refused ranges and on every zero run', () => {
  /* IPv4 around the first octets the fast path leaves to ipaddr.js (0, 127, 169, 224 and above), with any other octets. */
  const octet = fc.oneof(fc.constantFrom(0, 1, 9, 10, 99, 100, 126, 127, 128, 168, 169, 170, 223, 224, 239, 240, 254, 255, 256), fc.integer({ min: 0, max: 255 }));
  const v4 = fc.tuple(octet, octet, octet, octet).map((parts) => parts.join('.'));
  /* IPv6 groups around 0, 64, ff9b, fe80, fec0 and ff00, zero runs of every length and place, written with or without `::` and leading zeros. */
  const group = fc.oneof(fc.constant(0), fc.constant(0), fc.constantFrom(1, 0x64, 0xff9b, 0xffff, 0x2001, 0xdb8, 0xfe7f, 0xfe80, 0xfebf, 0xfec0, 0xfeff, 0xff00), fc.integer({ min: 0, max: 0xffff }));
  const v6 = fc.tuple(fc.array(group, { minLength: 8, maxLength: 8 }), fc.boolean(), fc.nat(8), fc.nat(8)).map(([groups, padded, from, length]) => {
    const text = groups.map((g) => (padded ? g.toString(16).padStart(4, '0') : g.toString(16)));
    const end = Math.min(8, from + length);
    const zeros = end - from >= 2 && groups.slice(from, end).every((g) => g === 0);
    return zeros ? `${text.slice(0, from).join(':')}::${text.slice(end).join(':')}` : text.join(':');
  });
  fc.assert(fc.property(fc.oneof(v4, v6), (value) => assert.deepEqual(parseHostAddress(value), hostAddressOf(value), value)), { numRuns: 20000 });
});
