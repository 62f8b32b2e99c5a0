/**
 * `apply --dry-run`: what loading a ruleset would change in the kernel, as lines of the backend's canonical
 * listing (what `status` compares for drift, shown in nft syntax): the ruleset is loaded by the backend into a
 * network namespace of its own (a unique name, removed whatever happens) and listed there, then compared with
 * what the target holds now. Nothing the host's packets meet is touched.
 */
import { randomBytes } from 'node:crypto';
import type { Ruleset } from '../compile/ir.ts';
import type { BackendName } from '../kernel/backend.ts';
import { execTool, runTool, type Target } from '../kernel/exec.ts';
import { backendFor } from '../kernel/load.ts';
import { compareListings, listingLineText, signedListingLines } from './drift.ts';

export interface ListingChanges {
  backend: BackendName;
  /** Listing lines the kernel would have and has not now. */
  added: string[];
  /** Listing lines the kernel has now and would not have. */
  removed: string[];
}

/** The backend's listing after loading `rs`, in a scratch network namespace. */
export async function listingAfterLoad(rs: Ruleset, backend: BackendName): Promise<string | null> {
  const scratch = `pal-dry-${randomBytes(4).toString('hex')}`;
  await runTool({ netns: null }, 'ip', ['netns', 'add', scratch], undefined, 'creating a scratch network namespace for the dry run');
  try {
    const loaded = backendFor(backend, { netns: scratch });
    await loaded.load(rs);
    return await loaded.listing();
  } finally {
    await execTool({ netns: null }, 'ip', ['netns', 'del', scratch]);
  }
}

/** Pure: the changes from one listing to another. */
export function listingChanges(backend: BackendName, now: string | null, after: string | null): ListingChanges {
  const { extra, missing } = compareListings(backend, now, after);
  return { backend, added: extra, removed: missing };
}

/** What loading `rs` with `backend` would change in the target's kernel. */
export async function dryRunChanges(target: Target, rs: Ruleset, backend: BackendName): Promise<ListingChanges> {
  const [now, after] = await Promise.all([backendFor(backend, target).listing(), listingAfterLoad(rs, backend)]);
  return listingChanges(backend, now, after);
}

/** The changes as the text `status` shows drift in: `  + rule input: tcp dport 22 counter accept ...`. */
export function describeChanges(changes: ListingChanges): string[] {
  if (changes.added.length + changes.removed.length === 0) return [`  no change to the kernel's ${changes.backend} ruleset`];
  return signedListingLines(changes.backend, changes.added, changes.removed, Infinity);
}

/** The changes as text lines for JSON. */
export const changesAsText = (changes: ListingChanges): { added: string[]; removed: string[] } => {
  const text = listingLineText(changes.backend);
  return { added: changes.added.map(text), removed: changes.removed.map(text) };
};
