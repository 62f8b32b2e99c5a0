/** The drop-rate gate's arithmetic: rates from a canary's samples (counter resets included) and the verdict. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeDropSample, DropHistory, dropGateProblem } from '../../src/fleet/drop-rate.ts';

const at = (s: number): string => new Date(Date.UTC(2026, 10, 30, 5, 0, s)).toISOString();
const ms = (s: number): number => Date.parse(at(s));

test('rates between samples of a window; a reload (lower counter) counts from 0; fewer than two samples: no rate', () => {
  const h = new DropHistory();
  for (const [s, packets] of [[0, 100], [1, 101], [2, 103], [4, 2], [5, 52], [6, 102]] as const) h.add('web-1', { at: at(s), packets });
  h.add('web-1', { at: at(1), packets: 999 });
  assert.equal(h.rate('web-1', ms(0), ms(3)), 1.5);
  assert.equal(h.rate('web-1', ms(4), ms(7)), 50);
  assert.equal(h.rate('web-1', ms(0), ms(7)), (3 + 2 + 50 + 50) / 6);
  assert.equal(h.rate('web-1', ms(6), ms(9)), null);
  assert.equal(h.rate('db-1', 0, Number.POSITIVE_INFINITY), null);
});

test('the gate fails a canary over factor x before + 1/s, naming it and its rates, and one without samples', () => {
  assert.equal(dropGateProblem([{ host: 'web-1', before: 2, during: 7 }], 3), null);
  assert.equal(dropGateProblem([{ host: 'web-1', before: 0, during: 0.9 }], 3), null);
  assert.equal(
    dropGateProblem([{ host: 'web-1', before: 2, during: 7.5 }, { host: 'web-2', before: 0, during: 0 }], 3),
    'drop rate: web-1 dropped 7.5/s during the bake against 2.0/s before (limit 3 x 2.0/s + 1.0/s = 7.0/s)',
  );
  assert.match(dropGateProblem([{ host: 'web-2', before: null, during: 3 }], 3) ?? '', /web-2 reported no drop counters before/);
});

test('a hostile sample is ignored', () => {
  assert.deepEqual(decodeDropSample(JSON.stringify({ at: at(1), packets: 5 })), { at: at(1), packets: 5 });
  for (const bad of ['nope', '[]', '{"at":"soon","packets":1}', `{"at":"${at(1)}","packets":-1}`, `{"at":"${at(1)}","packets":1e300}`, `{"at":"${'9'.repeat(100)}","packets":1}`]) {
    assert.equal(decodeDropSample(bad), null, bad);
  }
});
