/**
 * The cgroup v2 hierarchy of this machine, for per-service rules: nft and iptables resolve a rule's cgroup path
 * when they load it, so a rule of a unit that is not running is left out rather than failing the load.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const CGROUP_ROOT = '/sys/fs/cgroup';

/** Where cgroup v2 is mounted below /sys/fs/cgroup: '' (unified), 'unified' (hybrid), null when there is none. */
export function cgroupV2Mount(root = CGROUP_ROOT): string | null {
  if (existsSync(join(root, 'cgroup.controllers'))) return '';
  if (existsSync(join(root, 'unified', 'cgroup.controllers'))) return 'unified';
  return null;
}

/** What the compiler needs to know about this machine's services. */
export function localServices(root = CGROUP_ROOT): { cgroupMount: string; serviceRunning: (cgroup: string) => boolean } {
  const mount = cgroupV2Mount(root);
  return {
    cgroupMount: mount ?? '',
    serviceRunning: (cgroup) => mount !== null && existsSync(join(root, mount, cgroup)),
  };
}
