/** Network namespaces through `ip netns`: create, configure in one `ip -batch`, and delete with what runs inside. */
import { existsSync } from 'node:fs';
import { exec, run } from './command.ts';

/** Where `ip netns add` mounts a namespace. */
export const NETNS_DIR = '/var/run/netns';

export const namespaceExists = (name: string): boolean => existsSync(`${NETNS_DIR}/${name}`);

export async function addNamespace(name: string): Promise<void> {
  await run('ip', ['netns', 'add', name]);
}

/** Runs `ip` commands (one per line, without the leading `ip`) inside the namespace in one process. */
export async function ipBatch(namespace: string, commands: readonly string[]): Promise<void> {
  if (commands.length === 0) return;
  await run('ip', ['-n', namespace, '-batch', '-'], `${commands.join('\n')}\n`);
}

export async function sysctl(namespace: string, settings: Record<string, string>): Promise<void> {
  await run('ip', ['netns', 'exec', namespace, 'sysctl', '-q', '-w', ...Object.entries(settings).map(([k, v]) => `${k}=${v}`)]);
}

/**
 * Deletes the namespace; processes left in it (probe agents of a crashed run) are ended first, or the
 * namespace would outlive its name. Absent namespaces are fine: deleting is idempotent.
 */
export async function deleteNamespace(name: string): Promise<void> {
  if (!namespaceExists(name)) return;
  const pids = (await exec('ip', ['netns', 'pids', name])).stdout.split('\n').filter((p) => /^\d+$/.test(p));
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  await run('ip', ['netns', 'del', name]);
}
