// Whether a built artifact (dist/cli/, the executable) still reflects the sources: it is at least as new as
// every file under src/ and docs/ (embedded for `palisade help`) and package.json. bin/palisade.js and the
// build scripts decide with this; it runs at every start of `npx palisade`, so it stats files and builds paths
// by concatenation, nothing more (about 200 stats). CommonJS (bin/package.json), like bin/palisade.js: an ESM
// entry costs node's ESM loader, which loads fs/promises, a tenth of the startup.
'use strict';
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');

function newestUnder(dir, newest) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    newest = entry.isDirectory() ? newestUnder(path, newest) : Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function newestSource() {
  let newest = statSync(`${root}/package.json`).mtimeMs;
  for (const dir of ['src', 'docs']) if (existsSync(`${root}/${dir}`)) newest = newestUnder(`${root}/${dir}`, newest);
  return newest;
}

function isFresh(artifact) {
  return existsSync(artifact) && statSync(artifact).mtimeMs >= newestSource();
}

module.exports = { newestSource, isFresh };
