/** The iptables journal: whose it is (a live writer's is left alone), which namespace it is of, damage. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { clearJournal, journalPath, pendingJournal, withBatchFile, writeJournal } from '../../src/kernel/journal.ts';
import { tempDir } from '../helpers/tmp.ts';

const host = { netns: null };
const entry = { kind: 'undo-elements' as const, script: 'del pal4_x 10.0.0.1 -exist\n' };

describe('iptables journal', () => {
  it('none, then interrupted once written (its writer, this process, is not running a change), then none once cleared', async () => {
    const dir = tempDir('pal-journal-');
    assert.deepEqual(await pendingJournal(host, dir), { state: 'none' });
    await writeJournal(host, entry, dir);
    assert.deepEqual(await pendingJournal(host, dir), { state: 'interrupted', entry });
    await clearJournal(host, dir);
    assert.deepEqual(await pendingJournal(host, dir), { state: 'none' });
  });

  it("a live writer's journal is left alone; a dead writer's is interrupted; another namespace's is ignored", async () => {
    const dir = tempDir('pal-journal-');
    await writeJournal(host, entry, dir);
    const path = journalPath(host, dir);
    const journal = JSON.parse(readFileSync(path, 'utf8')) as { pid: number; started: string; namespace: number };
    const child = spawn('sleep', ['30']);
    try {
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const started = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] as string;
      writeFileSync(path, JSON.stringify({ ...journal, pid: child.pid, started }));
      assert.deepEqual(await pendingJournal(host, dir), { state: 'live', pid: child.pid });
      writeFileSync(path, JSON.stringify({ ...journal, pid: child.pid, started: `${started}1` }));
      assert.equal((await pendingJournal(host, dir)).state, 'interrupted', 'a reused pid is another process');
    } finally {
      child.kill('SIGKILL');
    }
    writeFileSync(path, JSON.stringify({ ...journal, namespace: journal.namespace + 1 }));
    assert.deepEqual(await pendingJournal(host, dir), { state: 'none' });
    writeFileSync(path, '{"version": 1, "pid"');
    await assert.rejects(pendingJournal(host, dir), /journal .* is damaged/);
  });

  it('batches go to a file that is removed afterwards, even when the tool fails', async () => {
    const dir = tempDir('pal-journal-');
    let seen = '';
    await assert.rejects(
      withBatchFile(host, 'ipset', 'add a b\n', async (path) => {
        seen = readFileSync(path, 'utf8');
        throw new Error('tool failed');
      }, dir),
      /tool failed/,
    );
    assert.equal(seen, 'add a b\n');
    assert.throws(() => readFileSync(`${dir}/ipset-host.batch`));
  });
});
