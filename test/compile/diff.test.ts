import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applySplices, elementChanges, elementSplices } from '../../src/compile/diff.ts';

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

  it('edits far apart stay small: one host leaving at the start, another joining at the end', () => {
    const before = Array.from({ length: 10_000 }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    const after = [...before.slice(1, 5000), '10.200.0.1', ...before.slice(5000), '10.250.0.1'];
    const splices = elementSplices(before, after);
    assert.deepEqual(splices, [
      { at: 0, remove: 1, insert: [] },
      { at: 5000, remove: 0, insert: ['10.200.0.1'] },
      { at: 10_000, remove: 0, insert: ['10.250.0.1'] },
    ]);
    assert.deepEqual(applySplices(before, splices), after);
    assert.deepEqual(elementChanges(before, after), { added: ['10.200.0.1', '10.250.0.1'], removed: [before[0]] });
    assert.equal(applySplices(before.slice(0, 10), splices), null, 'splices that do not fit the list');
  });

  it('splices give back the list after, for any edit, reordering included', () => {
    const element = fc.integer({ min: 0, max: 60 }).map((n) => `10.0.0.${n}`);
    const list = fc.uniqueArray(element, { maxLength: 50 });
    fc.assert(
      fc.property(list, list, (before, after) => assert.deepEqual(applySplices(before, elementSplices(before, after)), after)),
      { seed: 15, numRuns: 500 },
    );
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
