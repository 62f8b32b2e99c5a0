/**
 * The iptables backend's journal: before it changes anything in a network namespace, the backend records how to
 * return to what was there (a snapshot of palisade's tables and sets, or the element updates' undo lines), and
 * removes the record once the change is complete. A journal left behind means a palisade process died in the
 * middle of a change: the next one to touch that namespace (apply, restore, status, stop) puts back what the
 * journal recorded before doing anything else, so the kernel holds the old ruleset or the new one, never a mix.
 *
 * Journals live in /run/palisade, like the kernel state they describe: both are gone after a reboot. A journal
 * names the namespace by name and inode (a later namespace of the same name is not mistaken for it) and its
 * writer by pid and start time (a live writer's journal is never taken over).
 */
import { readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-file.ts';
import type { Ipset, IptablesTable } from '../render/iptables.ts';
import { KernelError } from './error.ts';
import type { Target } from './exec.ts';

export const JOURNAL_DIR = '/run/palisade';

/** What palisade had in the kernel: its tables of both families and its sets. */
export interface Snapshot {
  sets: Ipset[];
  v4: IptablesTable[];
  v6: IptablesTable[];
}

export type JournalEntry =
  /** A load or removal: the kernel goes back to the snapshot. */
  | { kind: 'snapshot'; snapshot: Snapshot }
  /** An element update: these `ipset restore` lines undo it. */
  | { kind: 'undo-elements'; script: string };

interface JournalFile {
  version: 1;
  netns: string | null;
  /** Inode of the namespace (nsfs): a new namespace reusing the name has another. */
  namespace: number;
  pid: number;
  /** The writer's start time (/proc/<pid>/stat field 22): a pid reused later has another. */
  started: string;
  entry: JournalEntry;
}

function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function namespaceInode(target: Target): number {
  try {
    return statSync(target.netns === null ? '/proc/self/ns/net' : join('/run/netns', target.netns)).ino;
  } catch (cause) {
    throw new KernelError(`cannot find network namespace ${target.netns ?? '(current)'}: ${(cause as Error).message}`);
  }
}

/** One file per namespace name; the name is a network namespace name (no '/'), or "host". */
export function journalPath(target: Target, dir = JOURNAL_DIR): string {
  return join(dir, `iptables-${target.netns ?? 'host'}.journal.json`);
}

export type Pending = { state: 'none' } | { state: 'live'; pid: number } | { state: 'interrupted'; entry: JournalEntry };

/** Whether a change of the namespace was interrupted (its journal left, its writer gone), or is under way. */
export async function pendingJournal(target: Target, dir = JOURNAL_DIR): Promise<Pending> {
  let text: string;
  try {
    text = await readFile(journalPath(target, dir), 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'none' };
    throw new KernelError(`cannot read the iptables journal ${journalPath(target, dir)}: ${(cause as Error).message}`);
  }
  let journal: JournalFile;
  try {
    journal = JSON.parse(text) as JournalFile;
  } catch {
    throw new KernelError(`the iptables journal ${journalPath(target, dir)} is damaged: remove it and run palisade restore`);
  }
  if (journal.version !== 1 || journal.namespace !== namespaceInode(target)) return { state: 'none' };
  if (journal.pid !== process.pid && processStart(journal.pid) === journal.started) return { state: 'live', pid: journal.pid };
  return { state: 'interrupted', entry: journal.entry };
}

/** Records how to undo the change about to be made; the change must not start unless this succeeded. */
export async function writeJournal(target: Target, entry: JournalEntry, dir = JOURNAL_DIR): Promise<void> {
  const journal: JournalFile = {
    version: 1,
    netns: target.netns,
    namespace: namespaceInode(target),
    pid: process.pid,
    started: processStart(process.pid) ?? '',
    entry,
  };
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(journalPath(target, dir), JSON.stringify(journal));
  } catch (cause) {
    throw new KernelError(`cannot write the iptables journal in ${dir} (nothing was changed): ${(cause as Error).message}`);
  }
}

export async function clearJournal(target: Target, dir = JOURNAL_DIR): Promise<void> {
  await rm(journalPath(target, dir), { force: true });
}

/**
 * Runs `use` with `text` in a file beside the journal. Kernel tools read their batches from such a file, not
 * from a pipe: a writer killed mid-pipe would hand `ipset restore`, which runs each line as it reads it, a
 * truncated last line that means another command (`add s 10.100.1` for `add s 10.100.1.7`).
 */
export async function withBatchFile<T>(target: Target, tool: string, text: string, use: (path: string) => Promise<T>, dir = JOURNAL_DIR): Promise<T> {
  const path = join(dir, `${tool}-${target.netns ?? 'host'}.batch`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(path, text, { mode: 0o600 });
  } catch (cause) {
    throw new KernelError(`cannot write the ${tool} batch in ${dir}: ${(cause as Error).message}`);
  }
  try {
    return await use(path);
  } finally {
    await rm(path, { force: true });
  }
}
