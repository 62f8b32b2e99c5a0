// The pages of docs/ as `palisade help TOPIC` shows them: TOPIC is the file name without .md. scripts/build.js
// embeds them in the bundle and the executable; from source, src/cli/help.ts reads them with this.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function readHelpTopics(root) {
  const dir = join(root, 'docs');
  const topics = {};
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.md')).sort()) topics[name.slice(0, -3)] = readFileSync(join(dir, name), 'utf8');
  return topics;
}
