/**
 * The applied state of this host, in one JSON file in the state directory (default /var/lib/palisade,
 * PALISADE_STATE_DIR, --state-dir): what is applied (the IR, its hash, the kernel listing taken right after
 * loading), what rollback returns to, and a pending confirmation. One file, replaced atomically, so every
 * transition is all-or-nothing. A file that does not parse, or whose IR does not match its hash (edited
 * outside palisade), is refused before anything is loaded from it.
 *
 * A change of set members only (the fleet agent's everyday change) is not worth rewriting a file that holds
 * every element twice: it is appended to `state.journal` as one line, the edits of each changed set (elementSplices),
 * and synced. Reading replays the journal over state.json, verifying every step against its hash as state.json
 * itself is verified. Each whole write of state.json names a new epoch that journal lines carry: a journal left
 * from before the last whole write (a crash between writing state.json and removing the journal) is ignored,
 * and so is a last line torn by a crash (the apply it records then shows as drift, as a crash before writing
 * the state would). Past JOURNAL_MAX_ENTRIES lines the next change writes state.json whole again.
 */
import { randomBytes } from 'node:crypto';
import { sha256 } from '../hash.ts';
import { closeSync, fdatasync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { dirname, join, resolve } from 'node:path';
import * as z from 'zod/mini';
import '../schema.ts';
import { applySplices, diffRulesets, elementSplices, membersChanged, spliceChanges } from '../compile/diff.ts';
import type { Ruleset } from '../compile/ir.ts';
import { InternalError, OperationError, systemReason } from '../diagnostics.ts';
import type { BackendName } from '../kernel/backend.ts';
import { nftListingAfterMembership, nftPatchableSets } from '../kernel/nft.ts';
import { makeDirectory, syncDirectory, writeFileAtomic } from '../atomic-file.ts';
import { DEFAULT_STATE_DIR } from '../defaults.ts';
import { fileIdentity, statIdentity } from '../file-identity.ts';

export const STATE_FILE = 'state.json';
export const JOURNAL_FILE = 'state.journal';
/** Lines the journal takes before the next change rewrites state.json whole (replaying one costs a hash). */
export const JOURNAL_MAX_ENTRIES = 64;
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

/**
 * Whether two rulesets have the same JSON text, and so the same hashRuleset, found without writing the text: the
 * same object, or plain objects with the same keys in the same order, arrays of the same length, equal primitives.
 * Anything else (another kind of object, a value JSON writes as another: NaN) is taken as a difference.
 */
export const sameRuleset = (a: Ruleset, b: Ruleset): boolean => sameJson(a, b);

const isPlain = (value: object): boolean => {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
};

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i += 1) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (!isPlain(a) || !isPlain(b)) return false;
  const keys = Object.keys(a);
  const others = Object.keys(b);
  if (keys.length !== others.length) return false;
  for (const [i, key] of keys.entries()) {
    if (others[i] !== key || !sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}

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
  /**
   * The backend's canonical listing right after loading: drift is any difference from it. After a change of set
   * members only, derived from the listing before when first read (afterMembership).
   */
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
  id: z.string().check(z.minLength(1)),
  host: z.string(),
  backend: z.enum(['nft', 'iptables']),
  ruleset: rulesetSchema,
  hash: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  policyRevision: z.string(),
  inventoryRevision: z.string(),
  appliedAt: z.string(),
  command: z.array(z.string()),
  listing: z.nullable(z.string()),
});

const stateSchema = z.object({
  version: z.literal(STATE_VERSION),
  applied: z.nullable(recordSchema),
  previous: z.nullable(z.object({ record: z.nullable(recordSchema) })),
  pending: z.nullable(z.object({ id: z.string(), deadline: z.string(), timerPid: z.nullable(z.int()) })),
});

const count = (): z.ZodMiniInt => z.int().check(z.nonnegative());
/** One changed set of a journal line: the splices (elementSplices) that make its elements of the previous ones. */
const setEditSchema = z.object({ name: z.string(), splices: z.array(z.object({ at: count(), remove: count(), insert: z.array(z.string()) })) });
/** One changed set of a journal line as earlier versions wrote it: the previous elements' head, `middle`, then their tail. */
const headTailEditSchema = z.object({ name: z.string(), head: count(), tail: count(), middle: z.array(z.string()) });
export type SetEdit = z.infer<typeof setEditSchema>;

/** A journal line: the applied record that follows `follows`, as edits of its sets. */
const entrySchema = z.object({
  epoch: z.string(),
  follows: z.string(),
  id: z.string().check(z.minLength(1)),
  hash: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  policyRevision: z.string(),
  inventoryRevision: z.string(),
  warnings: z.array(z.string()),
  appliedAt: z.string(),
  command: z.array(z.string()),
  sets: z.array(z.union([setEditSchema, headTailEditSchema])),
});
type JournalEntry = z.infer<typeof entrySchema>;

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
 * The state this process read or wrote, per state file path, with the identity of the files it came from
 * (inode, size, times of state.json and of the journal): reading unchanged files again costs two stats, not a
 * parse and a verification. `epoch` and `entries` say what the next journal line continues.
 */
const cache = new Map<string, { file: string; state: State; epoch: string; entries: number }>();

/**
 * The identity of the state files (inode, size, times of state.json and of the journal); null when there is no
 * state file. Every apply, rollback and revert records what it did in them before it lets go of the lock: equal
 * stamps taken at two instants mean that no palisade process changed the kernel in between and finished.
 */
export const stateStamp = (dir: string): string | null => {
  const state = fileIdentity(join(dir, STATE_FILE));
  return state === null ? null : `${state}|${fileIdentity(join(dir, JOURNAL_FILE)) ?? '-'}`;
};

function truncateQuietly(fd: number, size: number): void {
  try {
    ftruncateSync(fd, size);
  } catch {
    /* Then the line stays torn: reading leaves it out, and the next change writes state.json whole. */
  }
}

const datasync = promisify(fdatasync);

/** The state, or the empty state when there is no state file yet. Throws a StateError on a damaged or edited file. */
export async function loadState(dir: string): Promise<State> {
  const path = join(dir, STATE_FILE);
  const file = stateStamp(dir);
  const cached = cache.get(path);
  if (file !== null && cached?.file === file) return cached.state;
  const read = await readState(path);
  if (read === null) return EMPTY_STATE;
  const { state, entries } = await replayJournal(join(dir, JOURNAL_FILE), read.state, read.epoch);
  if (file !== null) cache.set(path, { file, state, epoch: read.epoch, entries });
  return state;
}

const damagedError = (path: string, what: string): StateError =>
  new StateError(`state file ${path} ${what}; nothing was loaded from it. Inspect it, then remove it (or run \`palisade stop\`) and apply again`, { unchanged: true });

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
    const code = (cause as NodeJS.ErrnoException).code;
    const reason = code === 'ENOTDIR' ? stateDirReason(dirname(path), cause) : systemReason(cause);
    throw new StateError(`cannot read the state file ${path}: ${reason}; ${STATE_DIR_HINT}`, { unchanged: true, cause });
  }
}

/** state.json and the epoch it names; null when there is none. */
async function readState(path: string): Promise<{ state: State; epoch: string } | null> {
  const damaged = (what: string): StateError => damagedError(path, what);
  const text = await readText(path);
  if (text === null) return null;
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
  const { epoch, ...state } = json as State & { epoch?: unknown };
  for (const record of [state.applied, state.previous?.record ?? null]) {
    if (record === null) continue;
    if (hashRuleset(record.ruleset) !== record.hash) throw damaged(`was modified outside palisade: the ruleset (IR) of apply ${record.id} does not match its hash`);
  }
  return { state, epoch: typeof epoch === 'string' ? epoch : '' };
}

/** The ruleset a journal line makes of the one it follows, and the sets whose members it changes. */
function rebuild(before: Ruleset, entry: Pick<JournalEntry, 'policyRevision' | 'inventoryRevision' | 'warnings' | 'sets'>): { ruleset: Ruleset; changed: string[] } | null {
  const edits = new Map(entry.sets.map((e) => [e.name, e]));
  const changed: string[] = [];
  const sets = before.sets.map((set) => {
    const edit = edits.get(set.name);
    if (edit === undefined) return set;
    edits.delete(set.name);
    const splices = 'splices' in edit ? edit.splices : [{ at: edit.head, remove: set.elements.length - edit.head - edit.tail, insert: edit.middle }];
    const elements = applySplices(set.elements, splices);
    if (elements === null) return null;
    const { added, removed } = spliceChanges(set.elements, splices);
    if (added.length + removed.length > 0) changed.push(set.name);
    return { ...set, elements };
  });
  if (edits.size > 0 || sets.some((set) => set === null)) return null;
  return {
    ruleset: { ...before, sets: sets as Ruleset['sets'], warnings: entry.warnings, policyRevision: entry.policyRevision, inventoryRevision: entry.inventoryRevision },
    changed,
  };
}

/**
 * A listing the kernel gave (or state.json holds) of `ruleset`, from which the listings after changes of set members
 * are derived, and the sets it has lines for.
 */
interface ListingRoot {
  listing: string;
  ruleset: Ruleset;
  sets: ReadonlySet<string>;
}

/** Records whose listing is derived when first read, by the listing it is derived from. */
const derivedFrom = new WeakMap<AppliedRecord, ListingRoot>();

/** Whether the record has a listing, known without deriving it. */
const hasListing = (record: AppliedRecord): boolean => derivedFrom.has(record) || record.listing !== null;

/**
 * The record of a change of set members only after `before` (nft's), its listing derived from before's as the
 * kernel lists it; null when it cannot be (the caller lists the kernel). The listing is derived when first read
 * (drift checking once someone else changed the kernel, a whole write of the state), not for every change: from
 * the listing the chain of changes started from, in one step, since a set's listed elements are its members sorted.
 * `changed`: the sets whose members change, when known (a journal line's edits); else found by diffing the rulesets.
 */
export function afterMembership(before: AppliedRecord, fields: Omit<AppliedRecord, 'listing'>, changed?: readonly string[]): AppliedRecord | null {
  if (before.backend !== 'nft' || fields.backend !== 'nft') return null;
  const root = derivedFrom.get(before) ?? (before.listing === null ? null : { listing: before.listing, ruleset: before.ruleset, sets: nftPatchableSets(before.listing) });
  if (root === null) return null;
  if (!(changed ?? membersChanged(diffRulesets(before.ruleset, fields.ruleset))).every((name) => root.sets.has(name))) return null;
  let derive: (() => string) | null = () => {
    const listing = nftListingAfterMembership(root.listing, root.ruleset, fields.ruleset);
    if (listing === null) throw new InternalError(`the listing of apply ${fields.id} could not be derived`);
    return listing;
  };
  let listing = '';
  const record = Object.defineProperty({ ...fields }, 'listing', {
    enumerable: true,
    get: (): string => {
      if (derive !== null) {
        listing = derive();
        derive = null;
        /* Derived, it is a listing to derive from in turn: later changes start from it. */
        derivedFrom.delete(record);
      }
      return listing;
    },
  }) as AppliedRecord;
  derivedFrom.set(record, root);
  return record;
}

/**
 * state.json with the journal's lines of its epoch replayed, the last two verified against their hashes; a journal of
 * another epoch is ignored whole. A last line without its newline is torn (a crash while appending): left out,
 * and `entries` is then the maximum, so that the next change writes state.json whole rather than append to it.
 */
async function replayJournal(path: string, base: State, epoch: string): Promise<{ state: State; entries: number }> {
  const text = await readText(path);
  if (text === null || epoch === '') return { state: base, entries: 0 };
  const damaged = (line: number, what: string): StateError => damagedError(`${path}:${line}`, what);
  const lines = text.split('\n');
  const torn = lines.pop() !== '';
  /* The records kept (applied, and previous: the one before it) are verified; a damaged line before them changes the ruleset they rebuild. */
  const verifiedFrom = lines.length - 2;
  let state = base;
  let entries = 0;
  for (const [index, line] of lines.entries()) {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (cause) {
      throw damaged(index + 1, `is damaged (not JSON: ${(cause as Error).message})`);
    }
    const parsed = entrySchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw damaged(index + 1, `is damaged (${issue?.path.join('.') || 'top level'}: ${issue?.message ?? 'invalid'})`);
    }
    const entry = parsed.data;
    if (entry.epoch !== epoch) {
      if (entries === 0) return { state: base, entries: 0 };
      throw damaged(index + 1, 'is damaged (a line of another epoch)');
    }
    const before = state.applied;
    if (before === null || state.pending !== null || entry.follows !== before.id) throw damaged(index + 1, `is damaged (it follows apply ${entry.follows}, the state holds ${before?.id ?? 'none'})`);
    const rebuilt = rebuild(before.ruleset, entry);
    if (rebuilt === null || (index >= verifiedFrom && hashRuleset(rebuilt.ruleset) !== entry.hash)) {
      throw damaged(index + 1, `was modified outside palisade: the ruleset (IR) of apply ${entry.id} does not match its hash`);
    }
    const { epoch: _epoch, follows: _follows, sets: _sets, warnings: _warnings, ...fields } = entry;
    const applied = afterMembership(before, { ...fields, host: before.host, backend: before.backend, ruleset: rebuilt.ruleset }, rebuilt.changed);
    if (applied === null) throw damaged(index + 1, `is damaged (the listing of apply ${entry.id} cannot be derived)`);
    state = { version: STATE_VERSION, applied, previous: { record: before }, pending: null };
    entries += 1;
  }
  return { state, entries: torn ? JOURNAL_MAX_ENTRIES : entries };
}

/** Replaces the state file atomically under a new epoch, then drops the journal it supersedes; on failure the old file stays whole. */
export async function saveState(dir: string, state: State): Promise<void> {
  const path = join(dir, STATE_FILE);
  const epoch = randomBytes(8).toString('hex');
  try {
    await ensureStateDir(dir);
    await writeFileAtomic(path, `${JSON.stringify({ ...state, epoch })}\n`);
    /* The journal is superseded either way (its lines carry the old epoch): failing to remove it changes nothing recorded. */
    await rm(join(dir, JOURNAL_FILE), { force: true }).catch(() => undefined);
    const file = stateStamp(dir);
    if (file !== null) cache.set(path, { file, state, epoch, entries: 0 });
  } catch (cause) {
    throw new StateError(`cannot write the state file in ${dir}: ${stateDirReason(dir, cause)}`, { cause });
  }
}

/**
 * The edits of a journal line taking ruleset `before` to `after` (a change of set members only), checked to give
 * `after` back exactly on replay; null when they cannot. Pure: an apply computes them while the kernel changes.
 */
export function membershipEdits(before: Ruleset, after: Ruleset): SetEdit[] | null {
  if (before.host !== after.host || before.sets.length !== after.sets.length) return null;
  const sets: SetEdit[] = [];
  for (const [i, set] of after.sets.entries()) {
    const old = before.sets[i];
    if (old === undefined || old.name !== set.name) return null;
    if (old.elements === set.elements) continue;
    const splices = elementSplices(old.elements, set.elements);
    if (splices.length > 0) sets.push({ name: set.name, splices });
  }
  /* Only what replaying gives back exactly: the same IR (its hash; the listing is derived from it as the apply derived it). */
  const rebuilt = rebuild(before, { policyRevision: after.policyRevision, inventoryRevision: after.inventoryRevision, warnings: after.warnings, sets });
  return rebuilt !== null && sameRuleset(rebuilt.ruleset, after) ? sets : null;
}

/**
 * The journal line taking `before` to `after`, or null when the change is not one of set members only or the
 * listing could not be derived again on replay (only nft's can, and only from a listing).
 */
function journalEntry(epoch: string, before: AppliedRecord, after: AppliedRecord, edits: SetEdit[] | null): JournalEntry | null {
  if (before.backend !== 'nft' || after.backend !== 'nft' || !hasListing(before) || !hasListing(after) || before.host !== after.host) return null;
  const { policyRevision, inventoryRevision, warnings } = after.ruleset;
  if (edits === null || after.policyRevision !== policyRevision || after.inventoryRevision !== inventoryRevision) return null;
  return { epoch, follows: before.id, id: after.id, hash: after.hash, policyRevision, inventoryRevision, warnings, appliedAt: after.appliedAt, command: after.command, sets: edits };
}

/**
 * Records `applied`, a change of set members only after the state's applied record with nothing pending, whose
 * listing was derived from the one before (the listing replaying derives again): one line appended to the
 * journal and synced. Anything else, or a journal that is long enough, is written whole (saveState). `edits`, when
 * computed ahead: membershipEdits(state.applied.ruleset, applied.ruleset).
 */
export async function saveMembership(dir: string, state: State, applied: AppliedRecord, edits?: SetEdit[] | null): Promise<void> {
  const path = join(dir, STATE_FILE);
  const next: State = { version: state.version, applied, previous: { record: state.applied }, pending: null };
  const cached = cache.get(path);
  /* A state.json without an epoch (written by an older palisade) takes no journal: reading would ignore it. */
  const entry =
    cached?.state === state && cached.epoch !== '' && state.applied !== null && state.pending === null && cached.entries < JOURNAL_MAX_ENTRIES
      ? journalEntry(cached.epoch, state.applied, applied, edits === undefined ? membershipEdits(state.applied.ruleset, applied.ruleset) : edits)
      : null;
  if (cached === undefined || entry === null) return saveState(dir, next);
  const journal = join(dir, JOURNAL_FILE);
  try {
    /* Synchronous but for the sync to disk (see fileIdentity). */
    const fd = openSync(journal, 'a', 0o600);
    let identity: string;
    try {
      const { size } = fstatSync(fd);
      const line = Buffer.from(`${JSON.stringify(entry)}\n`);
      try {
        for (let written = 0; written < line.length; ) written += writeSync(fd, line, written);
      } catch (cause) {
        /* A line only partly written is cut off again, so that the next one does not continue it. */
        truncateQuietly(fd, size);
        throw cause;
      }
      /* The line and the file's size, which reading it back needs (not its times): fdatasync(2). */
      await datasync(fd);
      identity = statIdentity(fstatSync(fd, { bigint: true }));
    } finally {
      closeSync(fd);
    }
    /* The first line of an epoch may have created the file: its name is durable once the directory is synced. */
    if (cached.entries === 0) await syncDirectory(dir);
    /* state.json is as read (it is replaced only under the lock this apply holds): only the journal's identity moved. */
    cache.set(path, { file: `${cached.file.slice(0, cached.file.indexOf('|'))}|${identity}`, state: next, epoch: cached.epoch, entries: cached.entries + 1 });
  } catch (cause) {
    throw new StateError(`cannot write the state journal in ${dir}: ${stateDirReason(dir, cause)}`, { cause });
  }
}
