/**
 * zod for palisade's own files (palisade.yaml, the state, the facts file, the fleet's etcd records) is its
 * tree-shakable API, zod/mini, imported where a schema is written (`import * as z from 'zod/mini'`), with zod's
 * English messages, which this module sets: every module with a schema imports it. The classic
 * `import { z } from 'zod'` bundles all of zod (450 KB) into every command that reads palisade.yaml or the state,
 * a tenth of `palisade apply`'s start-up; what the schemas use of zod/mini is about 20 KB. Re-exporting zod/mini's
 * namespace from here would bundle all of it again.
 */
import { config, type core } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

/** A validation failure's issues as `path: message` lines ("top level" for the root). */
export function issueLines(error: core.$ZodError): string[] {
  return error.issues.map((i) => `${i.path.join('.') || 'top level'}: ${i.message}`);
}
