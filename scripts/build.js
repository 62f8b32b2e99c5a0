#!/usr/bin/env node
// Builds the CLI for `npx palisade` (dist/cli/, run by bin/palisade.js) and, for the single executable, the
// whole CLI in one CommonJS file (dist/palisade.cjs). No TypeScript at run time; CommonJS because Node 20's
// single executable applications run only CommonJS, and because only a script compiled through node:vm gets
// V8's code cache on Node 20. Every module reachable from src/cli/run.ts is included as it is in src/ now.
// `npm ci` (the `prepare` script) and `npm run build` build dist/cli/; `npm run build:binary` the single file.
//
// dist/cli/ is split: esbuild's ESM code splitting gives the entry, one chunk per command (the dynamic
// imports of src/cli/register-*.ts) and the chunks they share; each is then turned into CommonJS, so a
// command reads and compiles only what it uses (`palisade --help` loads commander and the command table,
// no command and no etcd/gRPC, zod, yaml or prom-client), and bin/palisade.js compiles each chunk with its
// own code cache. The entry is written last: its mtime is the build's (bin/fresh.js).
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, transform } from 'esbuild';
import protobuf from 'protobufjs';
import { V8_FLAGS } from '../bin/v8-flags.js';
import { bundleConsoleUi } from './console-ui.js';
import { readHelpTopics } from './docs.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const require = createRequire(import.meta.url);

export const CLI_DIR = join(root, 'dist/cli');
export const CLI_ENTRY = join(CLI_DIR, 'run.cjs');

// etcd3 reads its .proto files from disk next to its own code when loaded; the bundle and the executable have
// no such files, so the service definitions are parsed now and embedded as JSON (the same options etcd3 uses).
const ETCD_PROTO_LOAD = '(0, proto_loader_1.loadSync)(`${__dirname}/../proto/rpc.proto`,';
const etcdProto = {
  name: 'etcd3-embedded-proto',
  setup(b) {
    b.onLoad({ filter: /[\\/]etcd3[\\/]lib[\\/]connection-pool\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes(ETCD_PROTO_LOAD)) throw new Error(`${args.path}: etcd3 no longer loads its protos as expected; update scripts/build.js`);
      const rpc = join(dirname(args.path), '../proto/rpc.proto');
      const json = new protobuf.Root().loadSync(rpc, { keepCase: true }).toJSON();
      return { contents: source.replace(ETCD_PROTO_LOAD, `(0, proto_loader_1.fromJSON)(${JSON.stringify(json)},`), loader: 'js' };
    });
  },
};

// commander requires node:child_process when loaded, for executable subcommands, which palisade has none of; a
// module node does not preload, it costs every start (`palisade --help` included) a few milliseconds. It is
// required when commander would spawn, instead.
const COMMANDER_CHILD_PROCESS = "const childProcess = require('node:child_process');";
const lazyChildProcess = {
  name: 'commander-lazy-child-process',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes(COMMANDER_CHILD_PROCESS)) throw new Error(`${args.path}: commander no longer requires child_process as expected; update scripts/build.js`);
      const lazy = "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };";
      return { contents: source.replace(COMMANDER_CHILD_PROCESS, lazy), loader: 'js' };
    });
  },
};

// src/yaml-module.ts gives the `yaml` library when first asked for. dist/cli/ has it as a chunk of its own, yaml.cjs
// (an entry point of the split build), which that module requires when asked: a command that places nothing in
// its YAML never reads it. The single executable's one file imports it with the rest.
const YAML_ENTRY = 'palisade:yaml';
const yamlModule = (split) => ({
  name: 'yaml-module',
  setup(b) {
    b.onResolve({ filter: /^palisade:yaml$/ }, () => ({ path: YAML_ENTRY, namespace: 'palisade' }));
    b.onLoad({ filter: /.*/, namespace: 'palisade' }, () => ({ contents: "import * as yaml from 'yaml';\nexport default yaml;\n", resolveDir: root, loader: 'js' }));
    b.onResolve({ filter: /^\.\/yaml\.cjs$/ }, (args) => ({ path: args.path, external: true }));
    b.onLoad({ filter: /[\\/]src[\\/]yaml-module\.ts$/ }, () => ({
      contents: split
        ? "let loaded;\nexport function yaml() {\n  loaded ??= require('./yaml.cjs').default;\n  return loaded;\n}\n"
        : "import * as loaded from 'yaml';\nexport function yaml() {\n  return loaded;\n}\n",
      loader: 'js',
    }));
  },
});

// What the bundle is made of, hashed (src/self.ts buildIdentity): data palisade derives and keeps between runs
// (src/app/policy-cache.ts) holds only for the code that derived it. The same sources give the same identity.
function buildIdentity() {
  const hash = createHash('sha256');
  const add = (path) => hash.update(path).update('\0').update(readFileSync(join(root, path))).update('\0');
  const walk = (dir) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.isDirectory()) walk(`${dir}/${entry.name}`);
      else add(`${dir}/${entry.name}`);
    }
  };
  walk('src');
  add('package-lock.json');
  return hash.digest('hex').slice(0, 32);
}

// src/self.ts runs palisade again from import.meta.url: in a built file, the URL of the file to run with node.
//
// Identifiers are not minified: functions and classes keep their names (what pino logs as an error's type, what a
// --debug trace shows) without esbuild's keepNames, which redefined the name of every function as it was created,
// a property write that cost an element-only `palisade apply` more than the 25 % of text it saves.
const common = {
  entryPoints: [join(root, 'src/cli/run.ts')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  // docs/ for `palisade help TOPIC` (src/cli/help.ts), as JSON text: esbuild inlines a string where it is used (the
  // help command's chunk), but lifts an object into a chunk shared by every command, read at every start.
  define: {
    'import.meta.url': 'PALISADE_ENTRY_URL',
    PALISADE_BUNDLED: 'true',
    PALISADE_BUILD_ID: JSON.stringify(buildIdentity()),
    PALISADE_HELP_TOPICS: JSON.stringify(JSON.stringify(readHelpTopics(root))),
  },
  plugins: [etcdProto, lazyChildProcess],
};

/** `common`, with src/yaml-module.ts as the build gives it (split: dist/cli/; one file: the single executable's). */
const withYaml = (options, split) => ({ ...options, plugins: [...options.plugins, yamlModule(split)] });

/** The console's page (src/console/assets.ts), embedded where the console command's code is. */
async function withConsolePage(options) {
  return { ...options, define: { ...options.define, PALISADE_CONSOLE_ASSETS: JSON.stringify(JSON.stringify(await bundleConsoleUi(root))) } };
}

/** esbuild's options for dist/cli/ (ESM chunks, turned into CommonJS by buildCli); test/cli/startup.test.ts builds with them too. */
export async function splitOptions() {
  const options = withYaml(await withConsolePage(common), true);
  return {
    ...options,
    // src/self.ts: dist/cli/ runs again through bin/palisade.js (its chunks are wrapped for it, not for node's require).
    define: { ...options.define, PALISADE_LAUNCHER: JSON.stringify('../../bin/palisade.js') },
    entryPoints: [{ in: options.entryPoints[0], out: 'run' }, { in: YAML_ENTRY, out: 'yaml' }],
    format: 'esm',
    splitting: true,
    outdir: CLI_DIR,
    chunkNames: '[name]-[hash]',
    outExtension: { '.js': '.cjs' },
    write: false,
  };
}

/** dist/cli/ (or `dir`, laid out beside a copy of bin/): the entry run.cjs and its chunks, CommonJS, each loaded when first required. */
export async function buildCli(dir = CLI_DIR) {
  const entry = join(dir, 'run.cjs');
  const split = await build({ ...(await splitOptions()), outdir: dir });
  if (split.errors.length > 0) process.exit(1);
  const files = await Promise.all(
    split.outputFiles.map(async (file) => {
      const cjs = await transform(file.text, {
        format: 'cjs',
        platform: 'node',
        target: 'node20',
        minifyWhitespace: true,
        minifySyntax: true,
        // import('./chunk.cjs') becomes a require of the chunk, which bin/palisade.js loads with its code cache.
        supported: { 'dynamic-import': false },
        banner: '"use strict";var PALISADE_ENTRY_URL=require("node:url").pathToFileURL(require("node:path").join(__dirname,"run.cjs")).href;',
      });
      // Wrapped as node wraps a CommonJS module, in the file: bin/palisade.js compiles the text as read, one flat
      // string (a wrapper added at run time makes V8 copy the whole chunk again to hash it against its caches).
      return { path: file.path, code: `(function (exports, require, module, __filename, __dirname) {${cjs.code}\n});` };
    }),
  );
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  files.sort((a, b) => Number(a.path === entry) - Number(b.path === entry));
  for (const file of files) writeFileSync(file.path, file.code);
  return entry;
}

/** dist/palisade.cjs: the whole CLI in one file, for the single executable (scripts/build-binary.js). */
export async function buildBundle() {
  const outfile = join(root, 'dist/palisade.cjs');
  const result = await build({
    ...withYaml(await withConsolePage(common), false),
    outfile,
    format: 'cjs',
    // V8's settings before any other line (bin/v8-flags.js), as bin/palisade.js gives them for dist/cli/.
    banner: { js: `"use strict";require("node:v8").setFlagsFromString(${JSON.stringify(V8_FLAGS)});var PALISADE_ENTRY_URL=require("node:url").pathToFileURL(__filename).href;` },
  });
  if (result.errors.length > 0) process.exit(1);
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  require.resolve('esbuild');
  console.log(`built ${await buildCli()}`);
}
