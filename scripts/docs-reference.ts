// `npm run docs`: writes docs/commands.md and man/palisade.1 from the command line itself (src/cli/reference.ts).
// test/cli/reference.test.ts fails when they are not what this writes, so every command and option is documented.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { referenceFiles } from '../test/helpers/reference.ts';

const root = join(import.meta.dirname, '..');
for (const [path, text] of Object.entries(await referenceFiles(root))) {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), text);
  console.log(`wrote ${path}`);
}
