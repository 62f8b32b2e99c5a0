/**
 * The cgroup v2 hierarchy of this machine, for per-service rules: nft and iptables resolve a rule's cgroup path
 * when they load it, so a rule of a unit that is not running is left out rather than failing the load.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const CGROUP_ROOT = '/sys/fs/cgroup';

/** Where cgroup v2 is mounted below /sys/fs/cgroup: '' (unified), 'unified' (hybrid), null when there is none. */
export function cgroupV2Mount(root = CGROUP_ROOT): string | null {
  if (existsSync(join(root, 'cgroup.controllers'))) return '';
  if (existsSync(join(root, 'unified', 'cgroup.controllers'))) return 'unified';
  return null;
}

/** What the compiler needs to know about this machine's services, and a fingerprint of their cgroups (see cgroupsFingerprint). */
export function localServices(root = CGROUP_ROOT): {
  cgroupMount: string;
  serviceRunning: (cgroup: string) => boolean;
  serviceCgroupId: (cgroup: string) => number | null;
  fingerprint: (cgroups: readonly string[]) => string;
} {
  const mount = cgroupV2Mount(root);
  return {
    cgroupMount: mount ?? '',
    serviceRunning: (cgroup) => mount !== null && existsSync(join(root, mount, cgroup)),
    serviceCgroupId: (cgroup) => (mount === null ? null : (statSync(join(root, mount, cgroup), { throwIfNoEntry: false })?.ino ?? null)),
    fingerprint: (cgroups) => cgroupsFingerprint(cgroups, root),
  };
}

/**
 * A fingerprint of the cgroups given (paths below the v2 root): each one's inode, or none. It changes when a unit
 * starts (its cgroup appears), stops, or restarts (a new cgroup, a new inode), which the agent watches for.
 */
export function cgroupsFingerprint(cgroups: readonly string[], root = CGROUP_ROOT): string {
  const mount = cgroupV2Mount(root);
  return cgroups.map((cgroup) => (mount === null ? '-' : (statSync(join(root, mount, cgroup), { throwIfNoEntry: false })?.ino.toString() ?? '-'))).join(',');
}
