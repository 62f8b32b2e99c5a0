/**
 * The apply life cycle's commands on a state directory they cannot use (below /proc, a file, a state file that is a
 * directory): an OperationError naming the directory, why, and what to do; exit 1, "nothing was changed", no trace.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const HINT = 'choose another with --state-dir DIR \\(or PALISADE_STATE_DIR\\)\nnothing was changed\n$';

async function refused(args: string[], message: string): Promise<void> {
  const r = await runCli(args[0] === 'status' ? args : [...args, '--lock-timeout', '1s']);
  assert.equal(r.code, 1, `${args.join(' ')}:\n${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^error: ${message}; ${HINT}`), args.join(' '));
  assert.doesNotMatch(r.stderr, /internal error|^\s+at /m);
}

test('rollback, restore, confirm and stop below /proc: the directory cannot be created there', async () => {
  for (const command of ['rollback', 'restore', 'confirm', 'stop']) {
    await refused([command, '--state-dir', '/proc/x'], 'cannot take the lock in the state directory /proc/x: /proc does not accept new directories \\(ENOENT\\)');
  }
  await refused(['rollback', '--state-dir', '/proc/x/y'], 'cannot take the lock in the state directory /proc/x/y: /proc does not accept new directories \\(ENOENT\\)');
  await refused(['restore', '--state-dir', '/proc/self'], 'cannot take the lock in the state directory /proc/self: it does not accept new files, as in /proc or /sys \\(ENOENT\\)');
});

test('a state directory that is a file, or a state file that is a directory', async () => {
  const dir = tempDir('palisade-state-dir-');
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  await refused(['rollback', '--state-dir', file], `cannot take the lock in the state directory ${file}: it is not a directory \\(ENOTDIR\\)`);
  await refused(['status', '--state-dir', file], `cannot read the state file ${file}/state.json: it is not a directory \\(ENOTDIR\\)`);
  const odd = join(dir, 'odd');
  mkdirSync(join(odd, 'state.json'), { recursive: true });
  for (const command of ['status', 'rollback', 'restore']) {
    await refused([command, '--state-dir', odd], `cannot read the state file ${odd}/state.json: it is a directory \\(EISDIR\\)`);
  }
});
