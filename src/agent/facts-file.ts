/**
 * What an agent cannot learn from the kernel: `/etc/palisade/host.yaml` (`--facts FILE`) gives environment,
 * roles, tags, attributes, the lan interface and extra local users to publish; flags override it.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { InputError, error } from '../diagnostics.ts';
import type { AttributeValue } from '../inventory/types.ts';

export const DEFAULT_FACTS_FILE = '/etc/palisade/host.yaml';

export interface DeclaredFacts {
  environment?: string;
  roles: string[];
  tags: string[];
  attributes: Record<string, AttributeValue>;
  lan?: string;
  /** Local users to publish besides those the policy names. */
  users: string[];
}

const schema = z
  .object({
    environment: z.string().optional(),
    roles: z.array(z.string()).default([]),
    tags: z.array(z.string()).default([]),
    attributes: z.record(z.string(), z.unknown()).default({}),
    lan: z.string().optional(),
    users: z.array(z.string()).default([]),
  })
  .strict();

/** Reads the facts file; a missing default file is no facts, a missing named one is an error. */
export async function readFactsFile(path: string | undefined): Promise<DeclaredFacts> {
  const file = path ?? DEFAULT_FACTS_FILE;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    if (path === undefined && (cause as NodeJS.ErrnoException).code === 'ENOENT') return { roles: [], tags: [], attributes: {}, users: [] };
    throw new InputError([error(`cannot read the facts file: ${(cause as Error).message}`, { file })]);
  }
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (cause) {
    throw new InputError([error(`YAML syntax: ${(cause as Error).message}`, { file })]);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new InputError(parsed.error.issues.map((i) => error(`${i.path.join('.') || 'top level'}: ${i.message}`, { file })));
  const { environment, lan, attributes, ...rest } = parsed.data;
  return { ...rest, attributes: attributes as Record<string, AttributeValue>, ...(environment === undefined ? {} : { environment }), ...(lan === undefined ? {} : { lan }) };
}

/** Flags (when given) replace the file's values. */
export function overrideFacts(file: DeclaredFacts, flags: { environment?: string; role?: string[]; tag?: string[]; lan?: string }): DeclaredFacts {
  return {
    ...file,
    ...(flags.environment === undefined ? {} : { environment: flags.environment }),
    ...(flags.role === undefined ? {} : { roles: flags.role }),
    ...(flags.tag === undefined ? {} : { tags: flags.tag }),
    ...(flags.lan === undefined ? {} : { lan: flags.lan }),
  };
}
