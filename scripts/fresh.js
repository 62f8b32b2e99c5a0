// Whether a built artifact (the bundle, the executable) still reflects the sources: it is at least as new as
// every file under src/ and package.json. bin/palisade.js and the build scripts decide with this.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));

export function newestSource() {
  let newest = statSync(join(root, 'package.json')).mtimeMs;
  const src = join(root, 'src');
  if (!existsSync(src)) return newest;
  for (const entry of readdirSync(src, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return newest;
}

export function isFresh(artifact) {
  return existsSync(artifact) && statSync(artifact).mtimeMs >= newestSource();
}
