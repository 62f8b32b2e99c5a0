/**
 * How palisade runs itself again (the confirmation timer, the lab's probe agents, the systemd units): the
 * single executable by itself, the one-file bundle with node, or `bin/palisade.js` with node (the CLI npm
 * builds in dist/cli/, or a source checkout).
 */
import { isSea } from 'node:sea';
import { fileURLToPath } from 'node:url';

/** Defined (true) by scripts/build.js in the bundle; undeclared when running from source through tsx. */
declare const PALISADE_BUNDLED: boolean | undefined;

/** Defined by scripts/build.js in the bundle: a hash of the sources it was built from. */
declare const PALISADE_BUILD_ID: string | undefined;

/**
 * Defined by scripts/build.js for dist/cli/: the script that runs it (bin/palisade.js, which loads its chunks),
 * relative to its entry. Undeclared in the one-file bundle, which runs by itself.
 */
declare const PALISADE_LAUNCHER: string | undefined;

export type Runtime = 'executable' | 'bundle' | 'source';

/**
 * What this palisade's code is, for data it derives and keeps between runs (src/app/policy-cache.ts): the
 * sources' hash in a build; null from source, where an edit takes effect without a build.
 */
export function buildIdentity(): string | null {
  return typeof PALISADE_BUILD_ID === 'undefined' ? null : PALISADE_BUILD_ID;
}

export function runtime(): Runtime {
  if (isSea()) return 'executable';
  return typeof PALISADE_BUNDLED === 'undefined' ? 'source' : 'bundle';
}

/** The argv prefix that runs this same palisade: append a command and its arguments. */
export function selfCommand(): [string, ...string[]] {
  switch (runtime()) {
    case 'executable':
      return [process.execPath];
    case 'bundle':
      return [process.execPath, fileURLToPath(typeof PALISADE_LAUNCHER === 'undefined' ? import.meta.url : new URL(PALISADE_LAUNCHER, import.meta.url))];
    case 'source':
      return [process.execPath, fileURLToPath(new URL('../bin/palisade.js', import.meta.url))];
  }
}

/** The hidden command the confirmation timer runs as (src/apply/confirm.ts). */
export const TIMER_COMMAND = '__revert-after';

/** The hidden command that runs the lab's probe agent (src/lab/probe-agent.ts) instead of the command line. */
export const PROBE_AGENT_COMMAND = '__probe-agent';
