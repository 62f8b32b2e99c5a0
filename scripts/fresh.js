// Whether a built artifact (dist/cli/, the executable) still reflects the sources: it is at least as new as
// every file under src/ and docs/ (embedded for `palisade help`) and package.json. bin/palisade.js and the build scripts decide with this; it runs at
// every start of `npx palisade`, so it stats files and builds paths by concatenation, nothing more (about 200
// stats), and requires node's modules: an ESM import of node:fs builds its ESM facade, which loads the streams.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { existsSync, readdirSync, statSync } = require('node:fs');
const { fileURLToPath } = require('node:url');

const root = fileURLToPath(new URL('../', import.meta.url));

function newestUnder(dir, newest) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    newest = entry.isDirectory() ? newestUnder(path, newest) : Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

export function newestSource() {
  let newest = statSync(`${root}package.json`).mtimeMs;
  for (const dir of ['src', 'docs']) if (existsSync(`${root}${dir}`)) newest = newestUnder(`${root}${dir}`, newest);
  return newest;
}

export function isFresh(artifact) {
  return existsSync(artifact) && statSync(artifact).mtimeMs >= newestSource();
}
