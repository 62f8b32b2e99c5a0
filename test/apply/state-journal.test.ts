/**
 * The state journal: a change of set members only is one appended line, replayed and verified on reading;
 * stale, torn, edited and hostile journals; kill -9 while appending.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { appendFileSync, cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EMPTY_STATE, JOURNAL_FILE, afterMembership, JOURNAL_MAX_ENTRIES, STATE_FILE, StateError, hashRuleset, loadState, saveMembership, saveState, type AppliedRecord, type State } from '../../src/apply/state.ts';
import type { Ruleset } from '../../src/compile/ir.ts';
import { WEB, firstRecord, nextRecord } from './journal-records.ts';
import { run, skipUnlessRoot } from '../helpers/netns.ts';
import { tempDir } from '../helpers/tmp.ts';

/** Reads the state as another process would: a copy of the directory, so nothing comes from this process's cache. */
function fresh(dir: string): Promise<State> {
  const copy = tempDir('pal-journal-copy-');
  cpSync(dir, copy, { recursive: true });
  return loadState(copy);
}

async function started(): Promise<{ dir: string; first: AppliedRecord }> {
  const dir = tempDir('pal-journal-');
  const first = firstRecord(['10.0.1.11', '10.0.1.12']);
  await saveState(dir, { ...EMPTY_STATE, applied: first, previous: { record: null } });
  return { dir, first };
}

const rejected = (message: RegExp) => (e: unknown) => e instanceof StateError && e.unchanged === true && message.test(e.message);

describe('state journal', () => {
  it('records a change of members as one line and replays it to the same state', async () => {
    const { dir, first } = await started();
    const stateText = readFileSync(join(dir, STATE_FILE), 'utf8');
    const second = nextRecord(first, 'second', ['10.0.1.11', '10.0.1.13']);
    await saveMembership(dir, await loadState(dir), second);
    const third = nextRecord(second, 'third', ['10.0.1.13']);
    await saveMembership(dir, await loadState(dir), third);
    assert.equal(readFileSync(join(dir, STATE_FILE), 'utf8'), stateText, 'state.json is not rewritten');
    const lines = readFileSync(join(dir, JOURNAL_FILE), 'utf8').split('\n');
    assert.equal(lines.length, 3);
    assert.ok(lines.every((l) => l.length < 1000), 'a line holds the edited part only');
    const expected: State = { ...EMPTY_STATE, applied: third, previous: { record: second } };
    assert.deepEqual(await loadState(dir), expected);
    assert.deepEqual(await fresh(dir), expected);
  });

  it('writes whole again after a whole write, a pending confirmation, or JOURNAL_MAX_ENTRIES lines', async () => {
    const { dir, first } = await started();
    let record = first;
    for (let i = 0; i < JOURNAL_MAX_ENTRIES; i += 1) {
      const next = nextRecord(record, `r${i}`, ['10.0.1.11', `10.0.2.${i}`]);
      await saveMembership(dir, await loadState(dir), next);
      record = next;
    }
    assert.equal(readFileSync(join(dir, JOURNAL_FILE), 'utf8').split('\n').length, JOURNAL_MAX_ENTRIES + 1);
    const last = nextRecord(record, 'last', ['10.0.1.11']);
    await saveMembership(dir, await loadState(dir), last);
    assert.deepEqual(readdirSync(dir), [STATE_FILE], 'the journal is folded into state.json');
    assert.deepEqual(await fresh(dir), { ...EMPTY_STATE, applied: last, previous: { record } });

    await saveState(dir, { ...(await loadState(dir)), pending: { id: 'last', deadline: new Date(5000).toISOString(), timerPid: null } });
    await saveMembership(dir, await loadState(dir), nextRecord(last, 'after-pending', ['10.0.1.12']));
    assert.deepEqual(readdirSync(dir), [STATE_FILE], 'nothing is appended over a pending confirmation');
  });

  it('writes whole over a state.json of an older palisade (no epoch), whose journal reading would ignore', async () => {
    const { dir, first } = await started();
    const path = join(dir, STATE_FILE);
    const { epoch: _epoch, ...older } = JSON.parse(readFileSync(path, 'utf8')) as State & { epoch: string };
    writeFileSync(path, JSON.stringify(older));
    const second = nextRecord(first, 'second', ['10.0.1.11', '10.0.1.13']);
    await saveMembership(dir, await loadState(dir), second);
    assert.deepEqual(readdirSync(dir), [STATE_FILE]);
    assert.equal((await fresh(dir)).applied?.id, 'second');
  });

  it('writes whole a change that replaying the line would not give back: another field of a set, or its keys in another order', async () => {
    const { dir, first } = await started();
    const members = nextRecord(first, 'members', ['10.0.1.11', '10.0.1.13']);
    const reshaped = (id: string, reshape: (set: Ruleset['sets'][number]) => Ruleset['sets'][number]): AppliedRecord => {
      const ruleset = { ...members.ruleset, sets: members.ruleset.sets.map((s) => (s.name === WEB ? reshape(s) : s)) };
      return { ...members, id, ruleset, hash: hashRuleset(ruleset) };
    };
    const variants = [
      reshaped('definition', (s) => ({ ...s, definition: `${s.definition} (edited)` })),
      reshaped('key-order', ({ elements, ...rest }) => ({ elements, ...rest })),
    ];
    for (const variant of variants) {
      await saveState(dir, { ...EMPTY_STATE, applied: first, previous: { record: null } });
      await saveMembership(dir, await loadState(dir), variant);
      assert.deepEqual(readdirSync(dir), [STATE_FILE], `${variant.id}: written whole, no journal line`);
      assert.deepEqual(await fresh(dir), { ...EMPTY_STATE, applied: variant, previous: { record: first } }, variant.id);
    }
  });

  it('derives the listing of a chain of changes of members from the first listing, as deriving change by change does; refuses a set it has no line for', async () => {
    const first = firstRecord(['10.0.1.11', '10.0.1.12']);
    let stepwise = first;
    let derived = first;
    for (const [i, web] of [['10.0.1.11', '10.0.1.13'], ['10.0.1.13'], ['10.0.1.12', '10.0.1.13', '10.0.1.14'], ['10.0.1.11']].entries()) {
      stepwise = nextRecord(stepwise, `r${i}`, web);
      const { listing: _listing, ...fields } = stepwise;
      const next = afterMembership(derived, fields);
      assert.ok(next !== null, `r${i} is derived`);
      derived = next;
    }
    assert.equal(derived.listing, stepwise.listing);
    assert.deepEqual(JSON.parse(JSON.stringify(derived)), JSON.parse(JSON.stringify(stepwise)), 'written whole, the derived listing is there');
    const { listing: _listing, ...last } = stepwise;
    const ruleset = { ...last.ruleset, sets: last.ruleset.sets.map((s) => (s.name === 'pal4_empty00000000' ? { ...s, elements: ['10.0.9.9'] } : s)) };
    assert.equal(afterMembership(derived, { ...last, id: 'no-line', ruleset, hash: hashRuleset(ruleset) }), null, 'a change of a set the listing has no line for');

    const { dir } = await started();
    const jump = afterMembership((await loadState(dir)).applied ?? first, { ...last, id: 'jump' });
    assert.ok(jump !== null);
    await saveMembership(dir, await loadState(dir), jump);
    assert.equal(readFileSync(join(dir, JOURNAL_FILE), 'utf8').split('\n').length, 2, 'one journal line');
    assert.equal((await fresh(dir)).applied?.listing, stepwise.listing, 'replayed, the line gives the same listing');
    assert.equal((await loadState(dir)).applied?.listing, stepwise.listing);
  });

  it('ignores a journal left from before the last whole write, and a torn last line', async () => {
    const { dir, first } = await started();
    const second = nextRecord(first, 'second', ['10.0.1.11', '10.0.1.13']);
    await saveMembership(dir, await loadState(dir), second);
    const stale = readFileSync(join(dir, JOURNAL_FILE), 'utf8');
    await saveState(dir, { ...EMPTY_STATE, applied: first, previous: { record: null } });
    writeFileSync(join(dir, JOURNAL_FILE), stale);
    assert.equal((await fresh(dir)).applied?.id, 'first', 'a journal of another epoch is not replayed');

    const { dir: torn, first: base } = await started();
    const next = nextRecord(base, 'next', ['10.0.1.12']);
    await saveMembership(torn, await loadState(torn), next);
    const line = readFileSync(join(torn, JOURNAL_FILE), 'utf8');
    appendFileSync(join(torn, JOURNAL_FILE), line.slice(0, 40));
    const state = await loadState(torn);
    assert.equal(state.applied?.id, 'next', 'whole lines replay, the torn one is left out');
    await saveMembership(torn, state, nextRecord(next, 'after-torn', ['10.0.1.11']));
    assert.deepEqual(readdirSync(torn), [STATE_FILE], 'after a torn line the next change is written whole');
    assert.equal((await fresh(torn)).applied?.id, 'after-torn');
  });

  it('replays a line as earlier versions wrote it (head, middle, tail of each changed set)', async () => {
    const { dir, first } = await started();
    const second = nextRecord(first, 'second', ['10.0.1.11', '10.0.1.13']);
    await saveMembership(dir, await loadState(dir), second);
    const line = JSON.parse(readFileSync(join(dir, JOURNAL_FILE), 'utf8')) as Record<string, unknown> & { sets: Array<{ name: string }> };
    assert.deepEqual(line.sets, [{ name: WEB, splices: [{ at: 1, remove: 1, insert: ['10.0.1.13'] }] }]);
    writeFileSync(join(dir, JOURNAL_FILE), `${JSON.stringify({ ...line, sets: [{ name: WEB, head: 1, tail: 0, middle: ['10.0.1.13'] }] })}\n`);
    assert.deepEqual(await fresh(dir), { ...EMPTY_STATE, applied: second, previous: { record: first } });
  });

  it('refuses a journal edited outside palisade, or hostile, naming the line', async () => {
    const { dir, first } = await started();
    await saveMembership(dir, await loadState(dir), nextRecord(first, 'second', ['10.0.1.11', '10.0.1.13']));
    const line = JSON.parse(readFileSync(join(dir, JOURNAL_FILE), 'utf8')) as Record<string, unknown> & { sets: Array<Record<string, unknown>> };
    const variants: Array<[unknown, RegExp]> = [
      [{ ...line, sets: [{ ...line.sets[0], splices: [{ at: 0, remove: 0, insert: ['0.0.0.0/0'] }] }] }, /state\.journal:1 was modified outside palisade: the ruleset \(IR\) of apply second does not match its hash/],
      [{ ...line, sets: [{ ...line.sets[0], splices: [{ at: 1e9, remove: 0, insert: [] }] }] }, /state\.journal:1 was modified outside palisade/],
      [{ ...line, sets: [{ ...line.sets[0], splices: [{ at: 1, remove: 1, insert: [] }, { at: 0, remove: 1, insert: [] }] }] }, /state\.journal:1 was modified outside palisade/],
      [{ ...line, sets: [{ name: line.sets[0]?.name, head: 1e9, tail: 0, middle: [] }] }, /state\.journal:1 was modified outside palisade/],
      [{ ...line, sets: [{ ...line.sets[0], name: 'pal4_not_a_set' }] }, /state\.journal:1 was modified outside palisade/],
      [{ ...line, follows: 'someone-else' }, /state\.journal:1 is damaged \(it follows apply someone-else, the state holds first\)/],
      [{ ...line, sets: 'x'.repeat(100) }, /state\.journal:1 is damaged \(sets:/],
    ];
    for (const [variant, message] of variants) {
      writeFileSync(join(dir, JOURNAL_FILE), `${JSON.stringify(variant)}\n`);
      await assert.rejects(loadState(dir), rejected(message));
    }
    writeFileSync(join(dir, JOURNAL_FILE), `{"not json\n${JSON.stringify(line)}\n`);
    await assert.rejects(loadState(dir), rejected(/state\.journal:1 is damaged \(not JSON/));
  });

  it('verifies the records it keeps (applied, previous): a line edited before them shows in the ruleset they rebuild', async () => {
    const { dir, first } = await started();
    const second = nextRecord(first, 'second', ['10.0.1.11', '10.0.1.13']);
    const third = nextRecord(second, 'third', ['10.0.1.11', '10.0.1.13', '10.0.1.14']);
    const fourth = nextRecord(third, 'fourth', ['10.0.1.13', '10.0.1.14']);
    for (const record of [second, third, fourth]) await saveMembership(dir, await loadState(dir), record);
    const lines = readFileSync(join(dir, JOURNAL_FILE), 'utf8').split('\n');
    assert.equal(lines.length, 4, 'three journal lines');
    assert.deepEqual(await fresh(dir), { ...EMPTY_STATE, applied: fourth, previous: { record: third } });
    const edited = JSON.parse(lines[0] as string) as Record<string, unknown> & { sets: Array<Record<string, unknown>> };
    lines[0] = JSON.stringify({ ...edited, sets: [{ ...edited.sets[0], splices: [{ at: 0, remove: 0, insert: ['0.0.0.0/0'] }] }] });
    writeFileSync(join(dir, JOURNAL_FILE), lines.join('\n'));
    await assert.rejects(fresh(dir), rejected(/state\.journal:2 was modified outside palisade: the ruleset \(IR\) of apply third does not match its hash/));
  });

  it('a journal line the disk has no room for fails whole: nothing of it is left, the state read back is the one before', { skip: skipUnlessRoot }, async () => {
    const mount = tempDir('pal-journal-full-');
    run('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount]);
    try {
      const dir = join(mount, 'state');
      const first = firstRecord(['10.0.1.11', '10.0.1.12']);
      await saveState(dir, { ...EMPTY_STATE, applied: first, previous: { record: null } });
      const second = nextRecord(first, 'second', ['10.0.1.11', '10.0.1.13']);
      await saveMembership(dir, await loadState(dir), second);
      const journal = readFileSync(join(dir, JOURNAL_FILE), 'utf8');
      /* The file system filled up: only the journal's last page has room left, less than the next line needs. */
      assert.throws(() => writeFileSync(join(mount, 'filler'), Buffer.alloc(1 << 20)), /ENOSPC/);
      const many = Array.from({ length: 500 }, (_, i) => `10.0.${2 + (i >> 8)}.${i & 255}`);
      await assert.rejects(saveMembership(dir, await loadState(dir), nextRecord(second, 'third', many)), (e: unknown) => e instanceof StateError && /cannot write the state journal/.test(e.message));
      assert.equal(readFileSync(join(dir, JOURNAL_FILE), 'utf8'), journal, 'no part of the line is left');
      assert.equal((await fresh(dir)).applied?.id, 'second');
    } finally {
      spawnSync('umount', [mount]);
    }
  });

  it('survives kill -9 while appending: always a whole, verified state', async () => {
    const { dir } = await started();
    let advanced = 0;
    for (let i = 0; i < 12; i += 1) {
      const before = await loadState(dir);
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'state-journal-writer.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
      const closed = new Promise((resolve) => child.on('close', resolve));
      child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), randomInt(0, 400)));
      await closed;
      const after = await fresh(dir);
      assert.ok(after.applied !== null && after.applied.hash === hashRuleset(after.applied.ruleset), `iteration ${i}: a verified record`);
      if (after.applied.id !== before.applied?.id) advanced += 1;
    }
    assert.ok(advanced > 0, 'the writers got to record changes (else the test proves nothing)');
  });
});
