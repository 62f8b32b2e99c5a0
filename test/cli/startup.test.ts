/**
 * Startup stays small: what `src/cli/main.ts` loads before a command runs (its static imports, followed
 * through the bundler as the build follows them) holds commander and light modules only. A command's module
 * and the heavy libraries (etcd3/gRPC, zod, yaml, prom-client, pino) load when a command needs them, through
 * the dynamic imports in src/cli/register-*.ts, which esbuild turns into lazy initialisers in the bundle. And
 * what the build makes of it: the chunks `palisade --help` reads stay small (a build once lifted the embedded
 * docs into a chunk every command loads, tripling it).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { build, type Metafile } from 'esbuild';
import { CLI_ENTRY, buildCli, splitOptions } from '../../scripts/build.js';
import { tempDir } from '../helpers/tmp.ts';

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

  it('palisade --help reads about 120 KB of the built chunks: the entry, the command table and what they import', async () => {
    const { metafile } = await build({ ...(await splitOptions()), metafile: true, logLevel: 'silent' });
    const outputs: Metafile['outputs'] = metafile.outputs;
    const entry = relative(process.cwd(), CLI_ENTRY);
    const read = new Set<string>();
    const stack = [entry];
    for (let file = stack.pop(); file !== undefined; file = stack.pop()) {
      if (read.has(file)) continue;
      read.add(file);
      for (const edge of outputs[file]?.imports ?? []) {
        const commandTable = edge.kind === 'dynamic-import' && /\/main-[A-Z0-9]+\.cjs$/.test(edge.path);
        if (edge.kind === 'import-statement' || commandTable) stack.push(edge.path);
      }
    }
    assert.ok([...read].some((f) => /\/main-/.test(f)), `the command table is among ${[...read].join(' ')}`);
    const bytes = [...read].reduce((n, f) => n + (outputs[f]?.bytes ?? 0), 0);
    assert.ok(bytes < 150_000, `--help reads ${bytes} bytes: ${[...read].map((f) => `${f} ${outputs[f]?.bytes}`).join(', ')}`);
  });

  it('yaml, the positioned parser, is a chunk of its own: apply reads none of it, and a built command loads it when an error needs its line', async () => {
    const { metafile } = await build({ ...(await splitOptions()), metafile: true, logLevel: 'silent' });
    const outputs: Metafile['outputs'] = metafile.outputs;
    const start = Object.keys(outputs).find((f) => Object.keys(outputs[f]?.inputs ?? {}).includes('src/cli/commands/apply.ts'));
    assert.ok(start !== undefined, 'the apply command has a chunk');
    const read = new Set<string>();
    const stack = [start];
    for (let file = stack.pop(); file !== undefined; file = stack.pop()) {
      if (read.has(file)) continue;
      read.add(file);
      for (const edge of outputs[file]?.imports ?? []) if (edge.kind === 'import-statement' || edge.kind === 'require-call') stack.push(edge.path);
    }
    const inputs = [...read].flatMap((f) => Object.keys(outputs[f]?.inputs ?? {}));
    assert.deepEqual(inputs.filter((i) => i.includes('node_modules/yaml/')), []);

    const dir = tempDir('palisade-yaml-');
    cpSync('bin', join(dir, 'bin'), { recursive: true });
    cpSync('package.json', join(dir, 'package.json'));
    await buildCli(join(dir, 'dist/cli'));
    const inventory = join(dir, 'inventory.yaml');
    writeFileSync(inventory, readFileSync('examples/shop/inventory.yaml', 'utf8').replace('10.10.2.21,', '10.10.2.21, bogus,'));
    const line = readFileSync(inventory, 'utf8').split('\n').findIndex((l) => l.includes('bogus')) + 1;
    const r = spawnSync(process.execPath, [join(dir, 'bin/palisade.js'), 'check', '--policy', 'examples/shop/policy.yaml', 'examples/shop/roles', '--inventory', inventory], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`inventory\\.yaml:${line}:\\d+: error: host "web-shop-1": "bogus" is not an IP address`));
  });

  it('the built CLI runs itself again (the confirmation timer, probe agents, the units) through bin/palisade.js', async () => {
    const dir = tempDir('palisade-self-');
    cpSync('bin', join(dir, 'bin'), { recursive: true });
    cpSync('package.json', join(dir, 'package.json'));
    await buildCli(join(dir, 'dist/cli'));
    const units = join(dir, 'units');
    const r = spawnSync(process.execPath, [join(dir, 'bin/palisade.js'), 'install-service', '--unit-dir', units, '--state-dir', join(dir, 'state')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const exec = /^ExecStart=(.*) restore --state-dir /m.exec(readFileSync(join(units, 'palisade-restore.service'), 'utf8'))?.[1];
    assert.equal(exec, `${process.execPath} ${join(dir, 'bin/palisade.js')}`);
    const again = spawnSync(exec.split(' ')[0] as string, [...exec.split(' ').slice(1), '--version'], { encoding: 'utf8' });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /^\d+\.\d+\.\d+/);
  });

  it('installed under node_modules/, the built CLI runs without checking the sources against it', async () => {
    const dir = join(tempDir('palisade-installed-'), 'node_modules/palisade');
    cpSync('bin', join(dir, 'bin'), { recursive: true });
    cpSync('package.json', join(dir, 'package.json'));
    await buildCli(join(dir, 'dist/cli'));
    /* A source newer than the build: a checkout would run the sources through tsx, which this layout does not have. */
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src/newer.ts'), '');
    const r = spawnSync(process.execPath, [join(dir, 'bin/palisade.js'), '--version'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\d+\.\d+\.\d+/);
  });

  it("schemas bundle zod/mini's share of zod, never the classic API (all of zod, in every command reading palisade.yaml)", async () => {
    const { metafile } = await build({ ...(await splitOptions()), metafile: true, logLevel: 'silent' });
    const zod = Object.keys(metafile.inputs).filter((f) => f.includes('node_modules/zod/'));
    assert.ok(zod.length > 0, 'zod/mini is bundled');
    assert.deepEqual(zod.filter((f) => f.includes('/classic/')), []);
  });

  it("the built CLI's code caches are made under the V8 settings it runs with: a second run rewrites none", async () => {
    /* Laid out as a package installs it: bin/, package.json, dist/cli/ built after them (so it is fresh). */
    const dir = tempDir('palisade-cache-');
    cpSync('bin', join(dir, 'bin'), { recursive: true });
    cpSync('package.json', join(dir, 'package.json'));
    const cli = join(dir, 'dist/cli');
    await buildCli(cli);
    const caches = (): string[] =>
      readdirSync(cli)
        .filter((f) => f.endsWith('.cache'))
        .map((f) => {
          const s = statSync(join(cli, f), { bigint: true });
          return `${f} ${s.ino} ${s.mtimeNs}`;
        })
        .sort();
    const run = (): void => {
      const r = spawnSync(process.execPath, [join(dir, 'bin/palisade.js'), 'apply', '--help'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /--host/);
    };
    run();
    const made = caches();
    assert.ok(made.some((c) => c.startsWith('run.cjs.')) && made.some((c) => c.startsWith('main-')), made.join(', '));
    run();
    assert.deepEqual(caches(), made, 'a cache V8 refused is written again at every exit');
  });
});
