#!/usr/bin/env node
// Runs the bundle (dist/palisade.cjs, built by `npm ci` through the `prepare` script) when it is at least as
// new as every file under src/ and package.json; otherwise the TypeScript sources through tsx, so an edit in
// src/ takes effect at once (`npm run build` makes startup fast again). The bundle is compiled with V8's code
// cache (dist/palisade.cjs.cache, written by the first run that finds none or a stale one).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';
import { isFresh } from '../scripts/fresh.js';

const path = (relative) => fileURLToPath(new URL(relative, import.meta.url));
const bundle = path('../dist/palisade.cjs');

function runBundle() {
  const cache = `${bundle}.cache`;
  const cachedData = existsSync(cache) ? readFileSync(cache) : undefined;
  const script = new Script(Module.wrap(readFileSync(bundle, 'utf8')), { filename: bundle, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once('exit', () => {
      try {
        writeFileSync(`${cache}.${process.pid}`, script.createCachedData());
        renameSync(`${cache}.${process.pid}`, cache);
      } catch {
        // A read-only installation runs without the cache.
      }
    });
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dirname(bundle));
}

if (isFresh(bundle)) {
  runBundle();
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/run.ts');
}
