#!/usr/bin/env node
// Builds dist/palisade-linux-x64: a single executable (Node's single executable applications), this Node
// binary with the bundle and its V8 code cache injected by postject. It needs no Node, node_modules or files
// of its own on the host. `npm run build:binary`; with `--reuse`, an executable newer than the sources is kept.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'postject';
import { buildBundle } from './build.js';
import { isFresh } from '../bin/fresh.js';

const root = fileURLToPath(new URL('../', import.meta.url));
// The fuse Node looks for to know a blob was injected (Node's documentation on single executable applications).
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export async function buildBinary() {
  const bundle = await buildBundle();
  const output = BINARY;
  const blob = join(root, 'dist/palisade.blob');
  const config = join(root, 'dist/sea-config.json');
  writeFileSync(config, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }));
  const prepared = spawnSync(process.execPath, ['--experimental-sea-config', config], { encoding: 'utf8' });
  if (prepared.status !== 0) throw new Error(`node --experimental-sea-config failed: ${prepared.stderr}`);
  rmSync(output, { force: true });
  copyFileSync(process.execPath, output);
  await inject(output, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: FUSE });
  chmodSync(output, 0o755);
  rmSync(blob);
  rmSync(config);
  return output;
}

export const BINARY = join(root, 'dist/palisade-linux-x64');

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--reuse') && isFresh(BINARY)) console.log(`kept ${BINARY}`);
  else console.log(`built ${await buildBinary()}`);
}
