/**
 * Every exit code of the `palisade` command, in one table (docs and README list the same). 0–2 say how
 * the command itself went; 3 and above report a state to alert on, so scripts and monitoring can tell
 * "the check ran and found something" from "the check could not run".
 */
export const EXIT = {
  /** Success; for a check, nothing to report. */
  ok: 0,
  /** Invalid input, or an operation that failed (the message says whether anything changed). */
  failed: 1,
  /** The command was called wrongly. */
  usage: 2,
  /**
   * A state to alert on: `explain --exit-code` denied, `status --exit-code` drift, `impact` would cut a
   * flow, `lab probe` kernel and explain disagree, `fleet status` a host missing, lagging, failing,
   * drifted, unregistered or in conflict.
   */
  attention: 3,
  /** `status --exit-code`: an apply waits for `palisade confirm` (and reverts by itself otherwise). */
  pending: 4,
} as const;
