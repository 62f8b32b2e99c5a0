import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bitset } from '../../src/query/bitset.ts';

test('empty and full, across word boundaries', () => {
  for (const size of [0, 1, 31, 32, 33, 64, 100]) {
    assert.equal(Bitset.empty(size).count(), 0);
    assert.equal(Bitset.empty(size).isEmpty(), true);
    assert.equal(Bitset.full(size).count(), size);
    assert.deepEqual(Bitset.full(size).indices(), [...Array(size).keys()]);
  }
});

test('set and has; out-of-range reads are false, writes throw', () => {
  const bits = Bitset.empty(70);
  for (const i of [0, 31, 32, 69]) bits.set(i);
  assert.deepEqual(bits.indices(), [0, 31, 32, 69]);
  assert.equal(bits.has(31), true);
  assert.equal(bits.has(30), false);
  assert.equal(bits.has(70), false);
  assert.equal(bits.has(-1), false);
  assert.throws(() => bits.set(70), RangeError);
  assert.equal(bits.isEmpty(), false);
});

test('and, or, andNot, not return new bitsets', () => {
  const a = Bitset.fromIndices(40, [1, 2, 33, 39]);
  const b = Bitset.fromIndices(40, [2, 3, 39]);
  assert.deepEqual(a.and(b).indices(), [2, 39]);
  assert.deepEqual(a.or(b).indices(), [1, 2, 3, 33, 39]);
  assert.deepEqual(a.andNot(b).indices(), [1, 33]);
  assert.equal(a.not().count(), 36);
  assert.equal(a.not().has(1), false);
  assert.equal(a.not().has(0), true);
  assert.deepEqual(a.indices(), [1, 2, 33, 39]);
  assert.deepEqual(a.not().not().indices(), a.indices());
});

test('not() never sets bits past the size', () => {
  const bits = Bitset.empty(33).not();
  assert.equal(bits.count(), 33);
  assert.equal(bits.has(33), false);
  assert.deepEqual(bits.indices().at(-1), 32);
});

test('count matches indices on a dense pattern', () => {
  const bits = Bitset.fromIndices(1000, [...Array(1000).keys()].filter((i) => i % 3 === 0 || i % 7 === 0));
  assert.equal(bits.count(), bits.indices().length);
});

test('combining bitsets of different sizes throws', () => {
  assert.throws(() => Bitset.empty(3).and(Bitset.empty(4)), RangeError);
  assert.throws(() => Bitset.empty(-1), RangeError);
});
