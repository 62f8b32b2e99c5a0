import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { elementChanges } from '../../src/compile/diff.ts';

const naive = (before: readonly string[], after: readonly string[]) => ({
  added: after.filter((e) => !before.includes(e)),
  removed: before.filter((e) => !after.includes(e)),
});

describe('set element changes', () => {
  it('finds the one element replaced in a long list, compared in place', () => {
    const before = Array.from({ length: 1000 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
    const after = [...before.slice(0, 500), '192.0.2.1', ...before.slice(501)];
    assert.deepEqual(elementChanges(before, after), { added: ['192.0.2.1'], removed: [before[500]] });
    assert.deepEqual(elementChanges(before, before), { added: [], removed: [] });
    assert.deepEqual(elementChanges([], before.slice(0, 2)), { added: before.slice(0, 2), removed: [] });
  });

  it('equals the plain set difference for any edit, reordering included', () => {
    const element = fc.integer({ min: 0, max: 40 }).map((n) => `10.0.0.${n}`);
    const list = fc.uniqueArray(element, { maxLength: 30 });
    const pair = fc.tuple(list, list).chain(([before, extra]) => {
      const after = [...new Set([...before.filter((_, i) => i % 3 !== 1), ...extra])];
      return fc.tuple(fc.constant(before), fc.oneof(fc.constant(after), fc.shuffledSubarray(after, { minLength: after.length, maxLength: after.length })));
    });
    fc.assert(
      fc.property(pair, ([before, after]) => assert.deepEqual(elementChanges(before, after), naive(before, after))),
      { seed: 15, numRuns: 500 },
    );
  });
});
