/** writeFileAtomic: concurrent writers of one target never tear it, and a failed or killed write leaves no temporary file. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeDirectory, removeStaleTemporaries, writeFileAtomic } from '../src/atomic-file.ts';
import { tempDir } from './helpers/tmp.ts';

describe('writeFileAtomic', () => {
  it('concurrent writers of one target leave one whole version and no temporary file', async () => {
    const dir = tempDir('pal-atomic-');
    const target = join(dir, 'lab.json');
    const versions = Array.from({ length: 40 }, (_, i) => `${JSON.stringify({ writer: i, pad: 'x'.repeat(i * 97) })}\n`);
    await Promise.all(versions.map((v) => writeFileAtomic(target, v)));
    assert.ok(versions.includes(await readFile(target, 'utf8')));
    assert.deepEqual(await readdir(dir), ['lab.json']);
  });

  it('a failed rename removes the temporary file and reports the error', async () => {
    const dir = tempDir('pal-atomic-');
    await mkdir(join(dir, 'target'));
    await assert.rejects(writeFileAtomic(join(dir, 'target'), 'data'), /EISDIR|EEXIST|ENOTEMPTY|directory/);
    assert.deepEqual(await readdir(dir), ['target']);
  });

  it("removeStaleTemporaries removes a killed writer's temporary file, not a running writer's nor another file", async () => {
    const dir = tempDir('pal-atomic-');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const names = [`.state.json.${dead}.0123456789ab.tmp`, `.state.json.${process.pid}.0123456789ab.tmp`, `.state.json.1.0123456789ab.tmp`, 'state.json', `notes.${dead}.tmp`];
    for (const name of names) await writeFile(join(dir, name), 'x');
    await removeStaleTemporaries(dir);
    assert.deepEqual((await readdir(dir)).sort(), names.slice(1).sort());
  });

  it('makeDirectory creates the missing parents, accepts an existing directory, and fails (not spins) below /proc', async () => {
    const dir = tempDir('pal-mkdir-');
    await makeDirectory(join(dir, 'a', 'b', 'c'), 0o700);
    await makeDirectory(join(dir, 'a', 'b', 'c'));
    assert.deepEqual(await readdir(join(dir, 'a', 'b')), ['c']);
    await assert.rejects(makeDirectory('/proc/palisade-no-such-dir/x'), /ENOENT|EPERM|EACCES/);
  });
});
