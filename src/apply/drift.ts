/**
 * Drift: whether the kernel still holds exactly what palisade applied, by comparing the backend's canonical
 * listing now with the one recorded right after applying.
 */
import type { BackendName } from '../kernel/backend.ts';
import type { Target } from '../kernel/exec.ts';
import { backendFor } from '../kernel/load.ts';
import { nftListingLineText } from '../kernel/nft-text.ts';
import type { AppliedRecord } from './state.ts';

export interface Drift {
  drifted: boolean;
  backend: BackendName;
  /** Lines of the listing the kernel has and the applied ruleset does not. */
  extra: string[];
  /** Lines the applied ruleset has and the kernel does not. */
  missing: string[];
}

/** Lines in a and not in b, counting repeats. */
function minus(a: readonly string[], b: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const line of b) counts.set(line, (counts.get(line) ?? 0) + 1);
  return a.filter((line) => {
    const n = counts.get(line) ?? 0;
    if (n === 0) return true;
    counts.set(line, n - 1);
    return false;
  });
}

export function compareListings(backend: BackendName, expected: string | null, actual: string | null): Drift {
  const lines = (text: string | null): string[] => (text === null || text === '' ? [] : text.split('\n'));
  const extra = minus(lines(actual), lines(expected));
  const missing = minus(lines(expected), lines(actual));
  /* Order matters within chains: equal multisets in another order are drift too. */
  const drifted = extra.length + missing.length > 0 || (expected ?? '') !== (actual ?? '');
  return { drifted, backend, extra, missing };
}

/**
 * Against the applied record; with none, anything of palisade's in the backend is drift. `listing`: the backend's
 * listing when the caller has already asked for it (src/apply/early-listing.ts).
 */
export async function detectDrift(applied: AppliedRecord | null, backend: BackendName, target: Target, listing?: Promise<string | null>): Promise<Drift> {
  const name = applied?.backend ?? backend;
  return compareListings(name, applied?.listing ?? null, await (listing ?? backendFor(name, target).listing()));
}

/** A line of a backend's listing for people: nft syntax (nft backend); iptables-save lines are already text. */
export const listingLineText = (backend: BackendName): ((line: string) => string) => (backend === 'nft' ? nftListingLineText : (l: string): string => l);

/** `  + line` and `  - line` in a backend's text, at most `max` of each sign (Infinity: all). */
export function signedListingLines(backend: BackendName, plus: readonly string[], minus: readonly string[], max = 10): string[] {
  const text = listingLineText(backend);
  const show = (sign: string, lines: readonly string[]): string[] => [
    ...lines.slice(0, max).map((l) => `  ${sign} ${text(l)}`),
    ...(lines.length > max ? [`  ${sign} ... ${lines.length - max} more`] : []),
  ];
  return [...show('+', plus), ...show('-', minus)];
}

/** The lines of a drift as nft syntax (nft backend; iptables-save lines are already text). */
export function describeDrift(drift: Drift, max = 10): string[] {
  if (!drift.drifted) return [];
  const body = signedListingLines(drift.backend, drift.extra, drift.missing, max);
  return [
    `drift: the kernel's ${drift.backend} ruleset is not what palisade applied (+ in the kernel only, - applied but missing):`,
    ...(body.length === 0 ? ['  same rules in another order'] : body),
  ];
}
