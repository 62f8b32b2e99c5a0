/**
 * A systemd unit's cgroup made by hand under the cgroup v2 mount (`system.slice/<unit>`), as if the unit started:
 * for tests of service rules. `remove` takes away what `start` made; a slice another run still uses stays.
 */
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { CGROUP_ROOT } from '../../src/kernel/cgroup.ts';

export interface UnitCgroup {
  /** The unit's cgroup directory (its `cgroup.procs` moves a process into the unit). */
  dir: string;
  start(): void;
  remove(): void;
}

export function unitCgroup(mount: string, unit: string): UnitCgroup {
  const slice = join(CGROUP_ROOT, mount, 'system.slice');
  const dir = join(slice, unit);
  let createdSlice = false;
  return {
    dir,
    start() {
      if (!existsSync(slice)) {
        mkdirSync(slice);
        createdSlice = true;
      }
      mkdirSync(dir);
    },
    remove() {
      if (existsSync(dir)) rmdirSync(dir);
      if (!createdSlice) return;
      try {
        rmdirSync(slice);
      } catch {
        /* another run's unit is in it: that run removes it */
      }
    },
  };
}
