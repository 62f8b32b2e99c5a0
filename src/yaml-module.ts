/**
 * The `yaml` library, the parser that knows where everything was written, loaded when first asked for: most
 * commands read their YAML with js-yaml (src/plain-yaml.ts) and place nothing, so they never load it. Synchronous,
 * since positions are asked for by synchronous code (a host's origin, an inventory's warnings).
 *
 * From the sources, node's require. A build (scripts/build.js) replaces this module: dist/cli/ requires `yaml` as
 * a chunk of its own, the single executable's one file imports it with the rest.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let loaded: typeof Yaml | undefined;

export function yaml(): typeof Yaml {
  loaded ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return loaded;
}
