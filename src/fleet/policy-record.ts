/**
 * The `policy` key: the pushed files' base names and texts as JSON. Readers never trust a pushed policy:
 * each one parses it again with parsePolicyFiles, exactly as files on disk are parsed.
 */
import { basename } from 'node:path';
import * as z from 'zod/mini';
import '../schema.ts';
import { InputError, error } from '../diagnostics.ts';
import { parsePolicyFiles, type LoadedPolicy } from '../policy/load.ts';

export interface PolicyRecord {
  files: Array<{ path: string; text: string }>;
  /** ISO 8601 time of the push. */
  pushedAt: string;
}

const schema = z.object({
  files: z.array(z.object({ path: z.string().check(z.minLength(1)), text: z.string() })).check(z.minLength(1)),
  pushedAt: z.string(),
});

export function encodePolicy(files: ReadonlyArray<{ path: string; text: string }>, now = new Date()): string {
  const record: PolicyRecord = { files: files.map((f) => ({ path: basename(f.path), text: f.text })), pushedAt: now.toISOString() };
  return JSON.stringify(record);
}

/** Parses and validates the stored policy; throws an InputError (file = the key) when it is not valid. */
export function decodePolicy(value: string, key: string): LoadedPolicy {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (cause) {
    throw new InputError([error(`the stored policy is not JSON: ${(cause as Error).message}`, { file: key })]);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new InputError([error(`the stored policy is not a policy record: ${parsed.error.issues[0]?.message ?? 'invalid'}`, { file: key })]);
  return parsePolicyFiles(parsed.data.files);
}
