/**
 * Crash-safe file replacement: write a temporary file beside the target, fsync it, rename it over the
 * target, fsync the directory. A crash at any point leaves either the old or the new file, never a torn one.
 * The temporary name is unique per writer (pid and random suffix), so concurrent writers of one target never
 * share a temporary file: the last rename wins whole. A failed write removes its temporary file; one whose
 * writer was killed is removed by removeStaleTemporaries.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** `.<target>.<pid>.<12 hex>.tmp` beside the target: a writer's temporary file, named after its target and its process. */
const temporaryPath = (path: string): string => join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
const TEMPORARY = /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/;

/** Whether a process of that pid runs (one of another user's too). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (cause) {
    return (cause as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the temporary files in `dir` whose writer no longer runs: a writer killed between creating its
 * temporary file and renaming it (kill -9, a crash) leaves it behind. Best effort: what cannot be read or
 * removed stays.
 */
export async function removeStaleTemporaries(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(TEMPORARY.exec(name)?.[1] ?? NaN);
    if (Number.isInteger(pid) && pid !== process.pid && !running(pid)) await rm(join(dir, name), { force: true }).catch(() => undefined);
  }
}

/** mkdir -p, parent by parent: node's own recursive mkdir spins forever where mkdir says ENOENT of an existing parent (below /proc). */
export async function makeDirectory(dir: string, mode?: number): Promise<void> {
  try {
    await mkdir(dir, mode === undefined ? {} : { mode });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && (await stat(dir)).isDirectory()) return;
    if (code !== 'ENOENT' || dirname(dir) === dir) throw cause;
    await makeDirectory(dirname(dir), mode);
    await mkdir(dir, mode === undefined ? {} : { mode });
  }
}

export async function writeFileAtomic(path: string, data: string, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  const tmp = temporaryPath(path);
  try {
    const file = await open(tmp, 'wx', mode);
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  await syncDirectory(dir);
}

/** fsync of a directory: a file created, renamed or removed in it is durable once this returns. */
export async function syncDirectory(dir: string): Promise<void> {
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
