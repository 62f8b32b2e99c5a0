/** writeFileAtomic: concurrent writers of one target never tear it, and a failed write leaves no temporary file. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeDirectory, writeFileAtomic } from '../src/atomic-file.ts';
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

  it('makeDirectory creates the missing parents, accepts an existing directory, and fails (not spins) below /proc', async () => {
    const dir = tempDir('pal-mkdir-');
    await makeDirectory(join(dir, 'a', 'b', 'c'), 0o700);
    await makeDirectory(join(dir, 'a', 'b', 'c'));
    assert.deepEqual(await readdir(join(dir, 'a', 'b')), ['c']);
    await assert.rejects(makeDirectory('/proc/palisade-no-such-dir/x'), /ENOENT|EPERM|EACCES/);
  });
});
