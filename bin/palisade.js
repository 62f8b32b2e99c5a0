#!/usr/bin/env node
// Runs the built CLI (dist/cli/, built by `npm ci` through the `prepare` script) when it is at least as new as
// every file under src/ and package.json; otherwise the TypeScript sources through tsx, so an edit in src/
// takes effect at once (`npm run build` makes startup fast again). Installed under node_modules/, the built CLI
// whenever there is one.
//
// dist/cli/ holds CommonJS chunks (scripts/build.js), each already wrapped as node wraps a module: the entry, one
// per command and the ones they share.
// Each is compiled when first required, with V8's code cache kept beside it (CHUNK.<mtime>.cache, written at
// exit by the first run that finds none; named after the chunk's mtime, as V8 checks only a cache's source
// length), so a command reads and compiles only its own code, mostly from the cache.
//
// V8's settings (bin/v8-flags.js) are given first, before any chunk is compiled: the caches hold for them.
//
// CommonJS (bin/package.json): an ESM entry costs node's ESM loader, which loads fs/promises, a tenth of the
// startup.
'use strict';
const { existsSync, readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { dirname, join, sep } = require('node:path');
const { pathToFileURL } = require('node:url');
const { setFlagsFromString } = require('node:v8');
const { Script } = require('node:vm');
const { isFresh } = require('./fresh.js');
const { V8_FLAGS } = require('./v8-flags.js');

setFlagsFromString(V8_FLAGS);

const entry = join(__dirname, '../dist/cli/run.cjs');

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
    const script = new Script(readFileSync(file, 'utf8'), { filename: file, cachedData });
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

// An installed package (under node_modules/) runs what it was installed with: nobody edits its sources, and
// checking them is about 300 stats at every start.
const installed = __dirname.split(sep).includes('node_modules');

if (installed ? existsSync(entry) : isFresh(entry)) {
  runBuilt();
} else {
  void (async () => {
    const { register } = await import('tsx/esm/api');
    register();
    await import(pathToFileURL(join(__dirname, '../src/cli/run.ts')).href);
  })();
}
