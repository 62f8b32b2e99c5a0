/**
 * What an agent cannot learn from the kernel: `/etc/palisade/host.yaml` (`--facts FILE`) gives the lan
 * interface and extra local users to publish; `--lan` overrides it. Environment, roles, tags and attributes
 * are the admin's registration (`palisade fleet add-agent`), never the agent's: the file refuses them.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import * as z from 'zod/mini';
import { issueLines } from '../schema.ts';
import { InputError, error } from '../diagnostics.ts';
import { DEFAULT_FACTS_FILE } from '../defaults.ts';


export interface DeclaredFacts {
  lan?: string;
  /** Local users to publish besides those the policy names. */
  users: string[];
}

/** Identity fields and the registration flag that sets each. */
const IDENTITY: Record<string, string> = { environment: '--environment E', roles: '--role R', tags: '--tag T', attributes: '--attribute K=V' };

const schema = z.strictObject({
  lan: z.optional(z.string()),
  users: z._default(z.array(z.string()), []),
});

/** Reads the facts file; a missing default file is no facts, a missing named one is an error. */
export async function readFactsFile(path: string | undefined): Promise<DeclaredFacts> {
  const file = path ?? DEFAULT_FACTS_FILE;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    if (path === undefined && (cause as NodeJS.ErrnoException).code === 'ENOENT') return { users: [] };
    throw new InputError([error(`cannot read the facts file: ${(cause as Error).message}`, { file })]);
  }
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (cause) {
    throw new InputError([error(`YAML syntax: ${(cause as Error).message}`, { file })]);
  }
  const identity = typeof raw === 'object' && raw !== null ? Object.keys(IDENTITY).filter((field) => field in raw) : [];
  if (identity.length > 0) {
    throw new InputError(identity.map((field) => error(`${field}: a host's identity comes from its registration (palisade fleet add-agent NAME ${IDENTITY[field]}), not from the agent`, { file })));
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new InputError(issueLines(parsed.error).map((line) => error(line, { file })));
  const { lan, ...rest } = parsed.data;
  return { ...rest, ...(lan === undefined ? {} : { lan }) };
}

/** `--lan` (when given) replaces the file's. */
export function overrideFacts(file: DeclaredFacts, flags: { lan?: string }): DeclaredFacts {
  return { ...file, ...(flags.lan === undefined ? {} : { lan: flags.lan }) };
}
