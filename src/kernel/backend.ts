/** What the applier needs from a kernel backend (nftables, or iptables + ipset), behind one interface. */
import type { Ruleset } from '../compile/ir.ts';
import type { ChainCounters } from './counters.ts';
import type { Target } from './exec.ts';

export type BackendName = 'nft' | 'iptables';
export const BACKENDS: readonly BackendName[] = ['nft', 'iptables'];

export type { ChainCounters } from './counters.ts';

export interface Backend {
  readonly name: BackendName;
  readonly target: Target;
  /** The text this backend loads for the ruleset: what is hashed, stored and shown by --dry-run. */
  render(rs: Ruleset): string;
  /** Asks the kernel tools whether they accept the ruleset, changing nothing palisade's rules see. */
  check(rs: Ruleset): Promise<void>;
  /** Validates, then replaces palisade's ruleset in one transaction; on failure nothing changed. Returns warnings. */
  load(rs: Ruleset): Promise<string[]>;
  /** Applies a membership-only change (same rules and sets) as element additions and deletions. */
  updateMembership(before: Ruleset, after: Ruleset): Promise<void>;
  /** Removes palisade's table, chains, jumps and sets, and nothing else. Idempotent. */
  remove(): Promise<void>;
  /** A canonical text of what palisade has in the kernel now (no counters, no handles); null when nothing. */
  listing(): Promise<string | null>;
  /**
   * Optional, when a long-lived caller watches the kernel (nft: watchGeneration): a mark that moves on every
   * change to the kernel's ruleset, by anyone, known without listing it; null when it cannot tell. load and
   * updateMembership return only once their own change moved it.
   */
  generation?(): number | null;
  /** Optional: start watching the kernel's generation (once per target and process). */
  watch?(): Promise<void>;
  /** Drop, reject and log counters per chain of palisade's, from the kernel. */
  counters(): Promise<ChainCounters[]>;
}
