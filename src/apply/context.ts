/** Where an apply-life-cycle operation acts: the state directory, the network namespace, the lock's patience. */
import type { Target } from '../kernel/exec.ts';

export interface HostContext {
  stateDir: string;
  target: Target;
  lockTimeoutMs: number;
  /** The command line recorded with what is applied. */
  command: string[];
  /**
   * A long-lived caller (the agent): watch the kernel's generation, so that an unchanged ruleset needs no lock
   * and no listing, and an element-only change no listing.
   */
  watchKernel?: boolean;
}
