/**
 * The applied state of this host, in one JSON file in the state directory (default /var/lib/palisade,
 * PALISADE_STATE_DIR, --state-dir): what is applied (the IR, its hash, the kernel listing taken right after
 * loading), what rollback returns to, and a pending confirmation. One file, replaced atomically, so every
 * transition is all-or-nothing. A file that does not parse, or whose IR does not match its hash (edited
 * outside palisade), is refused before anything is loaded from it.
 */
import { randomBytes } from 'node:crypto';
import { sha256 } from '../hash.ts';
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import type { Ruleset } from '../compile/ir.ts';
import { OperationError, systemReason } from '../diagnostics.ts';
import type { BackendName } from '../kernel/backend.ts';
import { makeDirectory, writeFileAtomic } from '../atomic-file.ts';
import { DEFAULT_STATE_DIR } from '../defaults.ts';

export const STATE_FILE = 'state.json';
export const STATE_VERSION = 2;

/** The state directory cannot be read or written, or its state file is damaged or was edited. */
export class StateError extends OperationError {
  override readonly name = 'StateError';

  constructor(message: string, options: { unchanged?: boolean; cause?: unknown } = {}) {
    super(message, { ...options, kind: 'state' });
  }
}

/** sha256 of the IR as the state file stores it: the ruleset's identity, and what restore and rollback load. */
export const hashRuleset = (rs: Ruleset): string => sha256(JSON.stringify(rs));

export interface AppliedRecord {
  /** Unique per apply: confirmation timers name the apply they guard by it. */
  id: string;
  host: string;
  backend: BackendName;
  ruleset: Ruleset;
  /** hashRuleset(ruleset), hex: the ruleset's identity shown to people and published to the fleet; seals the IR. */
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

/** What to do about a state directory that cannot be used. */
export const STATE_DIR_HINT = 'choose another with --state-dir DIR (or PALISADE_STATE_DIR)';

/**
 * Why the state directory refused what was asked of it, in words: not a directory, its parent takes no new
 * directories (/proc, /sys), read-only, full, not permitted.
 */
export function stateDirReason(dir: string, cause: unknown): string {
  const error = cause as NodeJS.ErrnoException | null;
  if (error?.code === 'EEXIST' || error?.code === 'ENOTDIR') return `it is not a directory (${error.code})`;
  if (error?.code === 'ENOENT' && error.syscall === 'mkdir') return `${dirname(error.path ?? dir)} does not accept new directories (ENOENT)`;
  if (error?.code === 'ENOENT' || error?.code === 'EPERM') return `it does not accept new files, as in /proc or /sys (${error.code})`;
  return systemReason(cause);
}

export async function ensureStateDir(dir: string): Promise<void> {
  await makeDirectory(dir, 0o700);
}

/**
 * The state files this process read or wrote, by path, with the identity of the file they came from (inode,
 * size, times): reading an unchanged file again costs one stat, not a parse and a verification.
 */
const cache = new Map<string, { file: string; state: State }>();

async function fileIdentity(path: string): Promise<string | null> {
  const s = await stat(path, { bigint: true }).catch(() => null);
  return s === null ? null : `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

/** The state, or the empty state when there is no state file yet. Throws a StateError on a damaged or edited file. */
export async function loadState(dir: string): Promise<State> {
  const path = join(dir, STATE_FILE);
  const file = await fileIdentity(path);
  const cached = cache.get(path);
  if (file !== null && cached?.file === file) return cached.state;
  const state = await readState(path);
  if (file !== null) cache.set(path, { file, state });
  return state;
}

async function readState(path: string): Promise<State> {
  const damaged = (what: string): StateError =>
    new StateError(`state file ${path} ${what}; nothing was loaded from it. Inspect it, then remove it (or run \`palisade stop\`) and apply again`, { unchanged: true });
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_STATE;
    const code = (cause as NodeJS.ErrnoException).code;
    const reason = code === 'ENOTDIR' ? stateDirReason(dirname(path), cause) : systemReason(cause);
    throw new StateError(`cannot read the state file ${path}: ${reason}; ${STATE_DIR_HINT}`, { unchanged: true, cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw damaged(`is damaged (not JSON: ${(cause as Error).message})`);
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version < STATE_VERSION) throw damaged(`was written by an older palisade (state format ${version}, this one reads ${STATE_VERSION})`);
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw damaged(`is damaged (${issue?.path.join('.') || 'top level'}: ${issue?.message ?? 'invalid'})`);
  }
  /* The parsed JSON itself, not zod's copy (which orders keys its own way): saved again, it hashes the same. */
  const state = json as State;
  for (const record of [state.applied, state.previous?.record ?? null]) {
    if (record === null) continue;
    if (hashRuleset(record.ruleset) !== record.hash) throw damaged(`was modified outside palisade: the ruleset (IR) of apply ${record.id} does not match its hash`);
  }
  return state;
}

/** Replaces the state file atomically; on failure the old file stays whole and no temporary file is left. */
export async function saveState(dir: string, state: State): Promise<void> {
  const path = join(dir, STATE_FILE);
  try {
    await ensureStateDir(dir);
    await writeFileAtomic(path, `${JSON.stringify(state)}\n`);
    const file = await fileIdentity(path);
    if (file !== null) cache.set(path, { file, state });
  } catch (cause) {
    throw new StateError(`cannot write the state file in ${dir}: ${stateDirReason(dir, cause)}`, { cause });
  }
}
