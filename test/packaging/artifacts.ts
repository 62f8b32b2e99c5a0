/**
 * What the packaging tests run: the executable and the .deb, built once per change of the sources (a fresh
 * dist/ artifact is reused: CI builds them before the suite), and a PATH in which no `node` can be found.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, symlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { VERSION } from '../../src/version.ts';
import { tempDir } from '../helpers/tmp.ts';

export const ROOT = join(import.meta.dirname, '../..');
export const BINARY = join(ROOT, 'dist/palisade-linux-x64');
export const DEB = join(ROOT, `dist/palisade_${VERSION}_amd64.deb`);

function run(script: string[]): void {
  const built = spawnSync(process.execPath, script, { cwd: ROOT, encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`${script.join(' ')} failed:\n${built.stdout}${built.stderr}`);
}

export function buildBinary(): string {
  run(['scripts/build-binary.js', '--reuse']);
  return BINARY;
}

export function buildDeb(): string {
  run(['--import', 'tsx', 'scripts/build-deb.ts']);
  return DEB;
}

const NODE_NAMES = new Set(['node', 'nodejs', 'npm', 'npx', 'corepack']);

/** This PATH with every directory holding a node replaced by a copy of links to everything else in it. */
export function pathWithoutNode(path: string = process.env.PATH ?? ''): string {
  return path
    .split(delimiter)
    .filter((dir) => dir !== '' && existsSync(dir))
    .map((dir) => {
      const names = readdirSync(dir);
      if (!names.some((name) => NODE_NAMES.has(name))) return dir;
      const copy = tempDir('palisade-nonode-');
      for (const name of names) if (!NODE_NAMES.has(name)) symlinkSync(join(dir, name), join(copy, name));
      return copy;
    })
    .join(delimiter);
}
