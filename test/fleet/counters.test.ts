/** `counters/<name>`: the totals an agent publishes, and a reader's checks of what it reads (hostile input). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countersOf, MAX_COUNTER_CHAINS, MAX_COUNTERS_BYTES, parsePublishedCounters, sameCounts } from '../../src/fleet/counters.ts';

const chain = (name: string, packets: number, rejected: number, logged = 0) => ({ chain: name, prefix: null, logged, packets, bytes: packets * 60, rejected, rejectedBytes: rejected * 60 });

test("totals add up the chains' drops and rejects apart; a reading that only moved in time is the same", () => {
  const at = new Date(Date.UTC(2026, 10, 30, 8, 0, 0));
  const c = countersOf([chain('input', 5, 2, 5), chain('output', 1, 0)], at);
  assert.deepEqual(c, { at: '2026-11-30T08:00:00.000Z', dropped: 6, rejected: 2, chains: [{ chain: 'input', dropped: 5, rejected: 2, logged: 5 }, { chain: 'output', dropped: 1, rejected: 0, logged: 0 }] });
  assert.ok(sameCounts(c, countersOf([chain('input', 5, 2, 5), chain('output', 1, 0)], new Date(at.getTime() + 60_000))));
  assert.ok(!sameCounts(c, countersOf([chain('input', 6, 2, 5), chain('output', 1, 0)], at)));
  assert.equal(countersOf(Array.from({ length: 100 }, (_, i) => chain(`c${i}`, 1, 0)), at).chains.length, MAX_COUNTER_CHAINS);
});

test('a published value reads back as it was written', () => {
  const c = countersOf([chain('input', 5, 2, 5)], new Date());
  assert.deepEqual(parsePublishedCounters('counters/a', JSON.stringify(c)), c);
});

test('hostile values are refused with the key named, never trusted', () => {
  const good = { at: '2026-11-30T08:00:00Z', dropped: 1, rejected: 0, chains: [{ chain: 'input', dropped: 1, rejected: 0, logged: 0 }] };
  const bad: Array<[string, string]> = [
    ['not json', '{'],
    ['an array', '[]'],
    ['null', 'null'],
    ['too large', JSON.stringify({ ...good, pad: 'x'.repeat(MAX_COUNTERS_BYTES) })],
    ['a negative count', JSON.stringify({ ...good, dropped: -1 })],
    ['a fraction', JSON.stringify({ ...good, rejected: 0.5 })],
    ['a string count', JSON.stringify({ ...good, dropped: '7' })],
    ['an unsafe integer', JSON.stringify({ ...good, dropped: 2 ** 60 })],
    ['a bad time', JSON.stringify({ ...good, at: 'yesterday' })],
    ['a long time', JSON.stringify({ ...good, at: `${good.at}${' '.repeat(50)}` })],
    ['too many chains', JSON.stringify({ ...good, chains: Array.from({ length: MAX_COUNTER_CHAINS + 1 }, () => good.chains[0]) })],
    ['a markup chain name', JSON.stringify({ ...good, chains: [{ ...good.chains[0], chain: '<img src=x onerror=alert(1)>' }] })],
    ['a control character', JSON.stringify({ ...good, chains: [{ ...good.chains[0], chain: 'in\u001b[2Jput' }] })],
    ['a chain without counts', JSON.stringify({ ...good, chains: [{ chain: 'input' }] })],
    ['nesting', `${'['.repeat(5000)}${']'.repeat(5000)}`],
  ];
  for (const [what, text] of bad) assert.throws(() => parsePublishedCounters('counters/evil', text), /^Error: counters\/evil: /, what);
});
