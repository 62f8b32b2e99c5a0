/**
 * The applied state of this host, in one JSON file in the state directory (default /var/lib/palisade,
 * PALISADE_STATE_DIR, --state-dir): what is applied (IR, rendered text, its hash, the kernel listing taken
 * right after loading), what rollback returns to, and a pending confirmation. One file, replaced atomically,
 * so every transition is all-or-nothing; a file that does not parse or whose hash does not match is refused.
 */
import { randomBytes } from 'node:crypto';
import { sha256 } from '../hash.ts';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { Ruleset } from '../compile/ir.ts';
import type { BackendName } from '../kernel/backend.ts';
import { KernelError } from '../kernel/error.ts';
import { writeFileAtomic } from './atomic-file.ts';

export const DEFAULT_STATE_DIR = '/var/lib/palisade';
export const STATE_FILE = 'state.json';
export const STATE_VERSION = 1;

export interface AppliedRecord {
  /** Unique per apply: confirmation timers name the apply they guard by it. */
  id: string;
  host: string;
  backend: BackendName;
  ruleset: Ruleset;
  /** Exactly what was handed to the kernel tools. */
  rendered: string;
  /** sha256 of `rendered`, hex. */
  hash: string;
  policyRevision: string;
  inventoryRevision: string;
  /** ISO 8601. */
  appliedAt: string;
  command: string[];
  /** The backend's canonical listing right after loading: drift is any difference from it. */
  listing: string | null;
}

export interface Pending {
  /** The applied record awaiting confirmation. */
  id: string;
  /** ISO 8601. */
  deadline: string;
  timerPid: number | null;
}

export interface State {
  version: typeof STATE_VERSION;
  applied: AppliedRecord | null;
  /** What rollback returns to; `record: null` means no palisade ruleset (rollback removes palisade's). */
  previous: { record: AppliedRecord | null } | null;
  pending: Pending | null;
}

const rulesetSchema = z.looseObject({
  host: z.string(),
  chains: z.array(z.looseObject({ name: z.string(), rules: z.array(z.unknown()) })),
  sets: z.array(z.looseObject({ name: z.string(), family: z.union([z.literal(4), z.literal(6)]), elements: z.array(z.string()), interval: z.boolean() })),
  rawIptables: z.array(z.unknown()),
  warnings: z.array(z.string()),
  policyRevision: z.string(),
  inventoryRevision: z.string(),
});

const recordSchema = z.object({
  id: z.string().min(1),
  host: z.string(),
  backend: z.enum(['nft', 'iptables']),
  ruleset: rulesetSchema,
  rendered: z.string(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  policyRevision: z.string(),
  inventoryRevision: z.string(),
  appliedAt: z.string(),
  command: z.array(z.string()),
  listing: z.string().nullable(),
});

const stateSchema = z.object({
  version: z.literal(STATE_VERSION),
  applied: recordSchema.nullable(),
  previous: z.object({ record: recordSchema.nullable() }).nullable(),
  pending: z.object({ id: z.string(), deadline: z.string(), timerPid: z.number().int().nullable() }).nullable(),
});

export const EMPTY_STATE: State = { version: STATE_VERSION, applied: null, previous: null, pending: null };

export function resolveStateDir(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(option ?? env.PALISADE_STATE_DIR ?? DEFAULT_STATE_DIR);
}

export const newId = (): string => randomBytes(8).toString('hex');

export async function ensureStateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

/** The state, or the empty state when there is no state file yet. Throws a KernelError on a damaged file. */
export async function loadState(dir: string): Promise<State> {
  const path = join(dir, STATE_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_STATE;
    throw new KernelError(`cannot read state file ${path}: ${(cause as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new KernelError(`state file ${path} is damaged (not JSON: ${(cause as Error).message}); inspect it, then remove it or run \`palisade stop\` and apply again`);
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new KernelError(`state file ${path} is damaged (${issue?.path.join('.') || 'top level'}: ${issue?.message ?? 'invalid'}); inspect it, then remove it or run \`palisade stop\` and apply again`);
  }
  const state = parsed.data as State;
  for (const record of [state.applied, state.previous?.record ?? null]) {
    if (record !== null && sha256(record.rendered) !== record.hash) {
      throw new KernelError(`state file ${path} is damaged: the ruleset of apply ${record.id} does not match its hash`);
    }
  }
  return state;
}

export async function saveState(dir: string, state: State): Promise<void> {
  await ensureStateDir(dir);
  await writeFileAtomic(join(dir, STATE_FILE), `${JSON.stringify(state)}\n`);
}
