/**
 * The systemd unit that reloads the last applied ruleset at boot, before the network comes up, from the
 * state directory alone (no policy, inventory or etcd needed): `palisade install-service` writes it.
 */
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.ts';
import { BIN } from './confirm.ts';

export const UNIT_NAME = 'palisade-restore.service';
export const DEFAULT_UNIT_DIR = '/etc/systemd/system';

/** systemd splits ExecStart on spaces and gives `\` and `%` meanings: paths with them are quoted and escaped. */
function quote(word: string): string {
  const escaped = word.replace(/\\/g, '\\\\').replace(/%/g, '%%').replace(/"/g, '\\"');
  return /[\s"'\\%]/.test(word) ? `"${escaped}"` : escaped;
}

export function restoreUnit(stateDir: string, node: string = process.execPath, bin: string = BIN): string {
  const exec = [node, bin, 'restore', '--state-dir', stateDir].map(quote).join(' ');
  return [
    '[Unit]',
    'Description=Palisade: restore the last applied firewall ruleset',
    'DefaultDependencies=no',
    'Before=network-pre.target',
    'Wants=network-pre.target',
    'After=local-fs.target',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${exec}`,
    'RemainAfterExit=yes',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** Writes the unit file and returns its path; enabling it (`systemctl enable`) is left to the administrator. */
export async function installService(unitDir: string, stateDir: string): Promise<string> {
  const path = join(unitDir, UNIT_NAME);
  await writeFileAtomic(path, restoreUnit(stateDir), 0o644);
  return path;
}
