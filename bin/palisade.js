#!/usr/bin/env node
// Runs the built CLI (dist/cli/, built by `npm ci` through the `prepare` script) when it is at least as new as
// every file under src/ and package.json; otherwise the TypeScript sources through tsx, so an edit in src/
// takes effect at once (`npm run build` makes startup fast again).
//
// dist/cli/ holds CommonJS chunks (scripts/build.js): the entry, one per command and the ones they share.
// Each is compiled when first required, with V8's code cache kept beside it (CHUNK.<mtime>.cache, written at
// exit by the first run that finds none; named after the chunk's mtime, as V8 checks only a cache's source
// length), so a command reads and compiles only its own code, mostly from the cache.
//
// It requires node's modules rather than importing them: an ESM import of node:fs builds its ESM facade,
// which loads the streams, a tenth of the startup.
import { createRequire } from 'node:module';
import { isFresh } from '../scripts/fresh.js';

const require = createRequire(import.meta.url);
const { existsSync, readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname } = require('node:path');
const { Script } = require('node:vm');
const { fileURLToPath } = require('node:url');

const entry = fileURLToPath(new URL('../dist/cli/run.cjs', import.meta.url));

function runBuilt() {
  const modules = new Map();
  const toCache = [];
  const dir = dirname(entry);
  // Chunks require one another (./chunk-X.cjs) and node's built-ins; everything else is bundled in them.
  const requireChunk = (id) => (id.startsWith('./') ? load(`${dir}/${id.slice(2)}`) : require(id));
  const load = (file) => {
    const known = modules.get(file);
    if (known !== undefined) return known.exports;
    const module = { exports: {} };
    modules.set(file, module);
    const cache = `${file}.${statSync(file).mtimeMs}.cache`;
    const cachedData = existsSync(cache) ? readFileSync(cache) : undefined;
    const script = new Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
    if (cachedData === undefined || script.cachedDataRejected) toCache.push([script, cache]);
    script.runInThisContext()(module.exports, requireChunk, module, file, dir);
    return module.exports;
  };
  process.once('exit', () => {
    for (const [script, cache] of toCache) {
      try {
        writeFileSync(`${cache}.${process.pid}`, script.createCachedData());
        renameSync(`${cache}.${process.pid}`, cache);
      } catch {
        // A read-only installation runs without the cache.
      }
    }
  });
  load(entry);
}

if (isFresh(entry)) {
  runBuilt();
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/run.ts');
}
