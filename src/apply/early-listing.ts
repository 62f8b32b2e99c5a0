/**
 * The kernel listing a one-shot apply (the command line) asks for before it holds the lock, so that the kernel
 * tool runs while the policy and the inventory load, not after: through the command line, the listing that tells
 * drift is one process start of its own (nft, or iptables-save and ipset).
 *
 * A listing taken before the lock may be older than the state read under it: another palisade may have changed
 * the kernel in between. Every palisade that changes the kernel records it in the state files before it lets go
 * of the lock (rollback and the confirmation timer too), so the listing is used only when the state files are
 * exactly as they were when it was asked for (stateStamp); otherwise, and when there was no state yet, the
 * kernel is listed again under the lock. A change by another tool in between shows as drift at the next
 * check, as one made between any listing and the load that follows it does. One palisade change leaves the state
 * files as they were: an apply that fails after loading and returns the kernel to what the state records. A
 * listing taken in that instant shows a drift that is gone by the time this apply holds the lock: it is reported,
 * and this apply then reloads its ruleset whole, which leaves the kernel as an element update would have.
 */
import type { BackendName } from '../kernel/backend.ts';
import { backendFor } from '../kernel/load.ts';
import type { HostContext } from './context.ts';
import { stateStamp } from './state.ts';

export interface EarlyListing {
  backend: BackendName;
  /** stateStamp of the state directory when the listing was asked for. */
  stamp: string;
  listing: Promise<string | null>;
}

/** Starts listing the backend's ruleset; null when there is no state to hold it against (no early listing then). */
export function listKernelEarly(ctx: HostContext, backend: BackendName): EarlyListing | null {
  const stamp = stateStamp(ctx.stateDir);
  if (stamp === null) return null;
  const listing = backendFor(backend, ctx.target).listing();
  /* Its failure is an answer for whoever reads it under the lock; nobody may (a policy with errors stops first). */
  listing.catch(() => undefined);
  return { backend, stamp, listing };
}

/**
 * The early listing when it is still the kernel the state under the lock describes; undefined: list now. One
 * that failed is asked for again, so that its error is this instant's.
 */
export function earlyListingFor(ctx: HostContext, backend: BackendName, early: EarlyListing | null | undefined): Promise<string | null> | undefined {
  if (early === null || early === undefined || early.backend !== backend || stateStamp(ctx.stateDir) !== early.stamp) return undefined;
  return early.listing.catch(() => backendFor(backend, ctx.target).listing());
}
