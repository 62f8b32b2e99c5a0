#!/usr/bin/env node
// Bundles the CLI into one CommonJS file, dist/palisade.cjs (no TypeScript at run time; CommonJS because
// Node 20's single executable applications run only CommonJS). Every module reachable from src/cli/run.ts is
// included as it is in src/ now. Run by `npm ci` (the `prepare` script) and `npm run build`.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import protobuf from 'protobufjs';

const root = fileURLToPath(new URL('../', import.meta.url));
const require = createRequire(import.meta.url);

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

export async function buildBundle() {
  const outfile = join(root, 'dist/palisade.cjs');
  const result = await build({
    entryPoints: [join(root, 'src/cli/run.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    define: { 'import.meta.url': 'PALISADE_BUNDLE_URL', PALISADE_BUNDLED: 'true' },
    banner: { js: '"use strict";var PALISADE_BUNDLE_URL=require("node:url").pathToFileURL(__filename).href;' },
    plugins: [etcdProto],
  });
  if (result.errors.length > 0) process.exit(1);
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  require.resolve('esbuild');
  console.log(`built ${await buildBundle()}`);
}
