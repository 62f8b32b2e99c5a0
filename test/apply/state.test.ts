/** The state file: round trip, clear errors on damage, and atomic replacement under kill -9 at random moments. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { EMPTY_STATE, STATE_FILE, StateError, hashRuleset, loadState, resolveStateDir, sameRuleset, saveState, type AppliedRecord, type State } from '../../src/apply/state.ts';
import type { Ruleset } from '../../src/compile/ir.ts';
import { sha256 } from '../../src/hash.ts';
import { fixture } from '../render/fixture.ts';
import { tempDir } from '../helpers/tmp.ts';

function record(id: string, padding = 0): AppliedRecord {
  const ruleset = fixture();
  const listing = padding === 0 ? null : `# ${id} ${'x'.repeat(padding)}`;
  return { id, host: ruleset.host, backend: 'nft', ruleset, hash: hashRuleset(ruleset), policyRevision: 'p', inventoryRevision: 'i', appliedAt: new Date(0).toISOString(), command: ['apply'], listing };
}

const dir = (): string => tempDir('pal-state-');

describe('state file', () => {
  it('is empty when there is none, and round-trips', async () => {
    const d = dir();
    assert.deepEqual(await loadState(d), EMPTY_STATE);
    const state: State = { ...EMPTY_STATE, applied: record('a'), previous: { record: null }, pending: { id: 'a', deadline: new Date(1000).toISOString(), timerPid: 42 } };
    await saveState(d, state);
    assert.deepEqual(await loadState(d), state);
    assert.deepEqual(readdirSync(d), [STATE_FILE]);
  });

  it('refuses damaged files with a clear error', async () => {
    const d = dir();
    const cases: Array<[string, RegExp]> = [
      ['{"version": 1, "applied": ', /damaged \(not JSON/],
      ['{"version": 3, "applied": null, "previous": null, "pending": null}', /damaged \(version/],
      ['{"version": 1, "applied": null, "previous": null, "pending": null}', /older palisade \(state format 1/],
      [JSON.stringify({ ...EMPTY_STATE, applied: { ...record('a'), hash: sha256('other') } }), /ruleset \(IR\) of apply a does not match its hash/],
      [JSON.stringify({ ...EMPTY_STATE, applied: { ...record('a'), ruleset: { host: 'x' } } }), /damaged \(applied\.ruleset/],
    ];
    for (const [text, message] of cases) {
      writeFileSync(join(d, STATE_FILE), text);
      await assert.rejects(loadState(d), (e: unknown) => e instanceof StateError && message.test(e.message) && e.message.includes(join(d, STATE_FILE)));
    }
  });

  it('refuses an IR edited outside palisade (an input chain turned accept-all), and re-saves what it loaded unchanged', async () => {
    const d = dir();
    await saveState(d, { ...EMPTY_STATE, applied: record('a') });
    await saveState(d, await loadState(d));
    const json = JSON.parse(readFileSync(join(d, STATE_FILE), 'utf8')) as State;
    const input = json.applied?.ruleset.chains.find((c) => c.name === 'input');
    const last = input?.rules.at(-1);
    assert.equal(last?.verdict.kind, 'drop');
    if (last !== undefined) last.verdict = { kind: 'accept' };
    writeFileSync(join(d, STATE_FILE), JSON.stringify(json));
    await assert.rejects(loadState(d), (e: unknown) => e instanceof StateError && e.unchanged && /modified outside palisade: the ruleset \(IR\) of apply a does not match its hash/.test(e.message));
  });

  it('takes the directory from the option, then PALISADE_STATE_DIR, then /var/lib/palisade', () => {
    assert.equal(resolveStateDir('/a', { PALISADE_STATE_DIR: '/b' }), '/a');
    assert.equal(resolveStateDir(undefined, { PALISADE_STATE_DIR: '/b' }), '/b');
    assert.equal(resolveStateDir(undefined, {}), '/var/lib/palisade');
  });

  it('survives kill -9 during a write: always the old or a whole new state', async () => {
    const d = dir();
    const work = dir();
    await saveState(d, { ...EMPTY_STATE, applied: record('old', 1000) });
    let replaced = 0;
    for (let i = 0; i < 25; i += 1) {
      const current = await loadState(d);
      const next: State = { ...EMPTY_STATE, applied: record(`new${i}`, 4_000_000), previous: { record: current.applied } };
      const source = join(work, 'next.json');
      writeFileSync(source, JSON.stringify(next));
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'state-writer.ts'), d, source], { stdio: ['ignore', 'pipe', 'inherit'] });
      const closed = new Promise((resolve) => child.on('close', resolve));
      child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), randomInt(0, 1500)));
      await closed;
      const loaded = await loadState(d);
      const id = loaded.applied?.id ?? '';
      assert.ok(id === current.applied?.id || id.startsWith(`new${i}-`), `iteration ${i}: got ${id}`);
      if (id !== current.applied?.id) replaced += 1;
    }
    assert.ok(replaced > 0, 'the writers got to replace the state (else the test proves nothing)');
  });
});

describe('sameRuleset', () => {
  const same = (a: unknown, b: unknown): boolean => sameRuleset(a as Ruleset, b as Ruleset);
  /** The value with every object's keys in reverse order. */
  const reversed = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(reversed);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]));
  };

  it('is equality of the JSON text (and so of the hash), for any JSON value, key order included', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        assert.equal(same(value, JSON.parse(JSON.stringify(value))), true);
        const other = reversed(value);
        assert.equal(same(value, other), JSON.stringify(value) === JSON.stringify(other));
      }),
      { seed: 15, numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 2 }), fc.jsonValue({ maxDepth: 2 }), (a, b) => assert.equal(same(a, b), JSON.stringify(a) === JSON.stringify(b))),
      { seed: 15, numRuns: 500 },
    );
  });

  it('takes what JSON writes otherwise than it compares, and objects that are not plain, as different', () => {
    const rs = fixture();
    assert.equal(same(rs, structuredClone(rs)), true);
    assert.equal(same(rs, { ...rs, sets: rs.sets.map((s, i) => (i === 0 ? { ...s, elements: [...s.elements, '10.9.9.9'] } : s)) }), false);
    assert.equal(same({ a: new Date(0) }, { a: new Date(1) }), false);
    assert.equal(same({ a: NaN }, { a: NaN }), false);
    assert.equal(same({ a: undefined }, {}), false);
  });
});
