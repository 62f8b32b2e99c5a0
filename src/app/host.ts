/** The options every apply-life-cycle operation shares (CLI flags, the agent), turned into the context the operations act in. */
import type { HostContext } from '../apply/context.ts';
import { resolveStateDir } from '../apply/state.ts';

export interface HostOptions {
  stateDir?: string;
  /** Hidden: run every kernel tool in this network namespace (tests, the lab). */
  netns?: string;
  /** Milliseconds, parsed from --lock-timeout. */
  lockTimeout: number;
}

/** `command` is what the state records as the command that applied (default: this process's arguments). */
export function hostContext(options: HostOptions, command: string[] = process.argv.slice(2)): HostContext {
  return {
    stateDir: resolveStateDir(options.stateDir),
    target: { netns: options.netns ?? null },
    lockTimeoutMs: options.lockTimeout,
    command,
  };
}
