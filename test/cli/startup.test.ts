/**
 * Startup stays small: what `src/cli/main.ts` loads before a command runs (its static imports, followed
 * through the bundler as the build follows them) holds commander and light modules only. A command's module
 * and the heavy libraries (etcd3/gRPC, zod, yaml, prom-client, pino) load when a command needs them, through
 * the dynamic imports in src/cli/register-*.ts, which esbuild turns into lazy initialisers in the bundle.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { build, type Metafile } from 'esbuild';

/** Every input file reached from entry without crossing a dynamic import. */
async function staticClosure(entry: string): Promise<string[]> {
  const { metafile } = await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', write: false, metafile: true, outdir: 'unused', logLevel: 'silent' });
  const inputs: Metafile['inputs'] = metafile.inputs;
  const seen = new Set<string>();
  const stack = [entry];
  for (let file = stack.pop(); file !== undefined; file = stack.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const edge of inputs[file]?.imports ?? []) if (edge.kind !== 'dynamic-import' && edge.external !== true) stack.push(edge.path);
  }
  return [...seen].sort();
}

describe('startup', () => {
  it('the command line loads commander and no command, before a command runs', async () => {
    const files = await staticClosure('src/cli/main.ts');
    const packages = new Set(files.flatMap((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1] ?? []));
    assert.deepEqual([...packages], ['commander']);
    assert.deepEqual(files.filter((f) => f.startsWith('src/cli/commands/')), []);
    assert.ok(files.length < 30, `${files.length} files: ${files.join(' ')}`);
  });
});
