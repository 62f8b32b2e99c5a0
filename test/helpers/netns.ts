/** Kernel tools run for real, in throwaway network namespaces the tests create and always delete. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** Every kernel test says why it is skipped, so a non-root run cannot pass silently. */
export const skipUnlessRoot: string | false = process.getuid?.() === 0 ? false : 'needs root to create a network namespace (ip netns add)';

export type Exec = (command: string, args: readonly string[], input?: string) => string;

/** Runs a command, fails the test with its stderr when it exits non-zero, returns its stdout. */
export const run: Exec = (command, args, input) => {
  const result = spawnSync(command, args, { encoding: 'utf8', input });
  if (result.error !== undefined) throw result.error;
  assert.equal(result.status, 0, `${command} ${args.join(' ')} failed (${result.status}):\n${result.stderr}`);
  return result.stdout;
};

export const namespaceName = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

export const execIn =
  (ns: string): Exec =>
  (command, args, input) =>
    run('ip', ['netns', 'exec', ns, command, ...args], input);

/** Runs `body` with a fresh namespace, deleted afterwards whatever happens. */
export function inNamespace<T>(prefix: string, body: (exec: Exec) => T): T {
  const ns = namespaceName(prefix);
  run('ip', ['netns', 'add', ns]);
  try {
    return body(execIn(ns));
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}
