/**
 * The systemd units, one text for the Debian package (scripts/build-deb.js) and `palisade install-service`:
 * `palisade-restore.service` reloads the last applied ruleset at boot, before the network comes up, from the
 * state directory alone (no policy, inventory or etcd needed); `palisade-agent.service` runs the agent,
 * sandboxed to what a netfilter agent needs, with its flags from `/etc/palisade/agent.env`.
 */
import { join } from 'node:path';
import { selfCommand } from '../self.ts';
import { makeDirectory, writeFileAtomic } from '../atomic-file.ts';

export const RESTORE_UNIT = 'palisade-restore.service';
export const AGENT_UNIT = 'palisade-agent.service';
export const AGENT_ENV_FILE = '/etc/palisade/agent.env';

/** systemd splits ExecStart on spaces and gives `\`, `%` and `$` meanings: words with them are quoted and escaped. */
function quote(word: string): string {
  const escaped = word.replace(/\\/g, '\\\\').replace(/%/g, '%%').replace(/\$/g, '$$$$').replace(/"/g, '\\"');
  return /[\s"'\\%$]/.test(word) ? `"${escaped}"` : escaped;
}

const command = (palisade: readonly string[], args: readonly string[]): string => [...palisade.map(quote), ...args].join(' ');

/**
 * Both units run as root (the state directory is shared with an operator's `palisade apply`) but with only the
 * capabilities netfilter needs, a read-only system where the state directory, iptables' lock and /run/palisade
 * (the iptables backend's journal) are the only writable places, and no way to gain more (memory stays writable
 * and executable: V8 compiles JavaScript at run time).
 */
function sandbox(stateDir: string): string[] {
  return [
    `ReadWritePaths=${quote(stateDir)} -/run/xtables.lock`,
    /* The iptables backend's journal (src/kernel/journal.ts), kept across restarts so a killed apply is undone. */
    'RuntimeDirectory=palisade',
    'RuntimeDirectoryMode=0700',
    'RuntimeDirectoryPreserve=yes',
    'CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW',
    'AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW',
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'ProtectKernelTunables=yes',
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'ProtectProc=invisible',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'SystemCallArchitectures=native',
    'SystemCallFilter=@system-service',
    'SystemCallFilter=~@privileged @resources @obsolete',
    'SystemCallErrorNumber=EPERM',
    'UMask=0077',
  ];
}

export function restoreUnit(stateDir: string, palisade: readonly string[] = selfCommand()): string {
  return [
    '[Unit]',
    'Description=Palisade: restore the last applied firewall ruleset',
    'DefaultDependencies=no',
    'Before=network-pre.target shutdown.target',
    'Wants=network-pre.target',
    'After=local-fs.target',
    'Conflicts=shutdown.target',
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${command(palisade, ['restore', '--state-dir', quote(stateDir)])}`,
    'RemainAfterExit=yes',
    ...sandbox(stateDir),
    '',
    '[Install]',
    'WantedBy=sysinit.target',
    '',
  ].join('\n');
}

/** The agent, restarted whenever it ends; stopping it (SIGTERM) leaves the ruleset loaded. */
export function agentUnit(stateDir: string, palisade: readonly string[] = selfCommand()): string {
  return [
    '[Unit]',
    'Description=Palisade agent: keeps this host firewall current',
    `After=network-online.target ${RESTORE_UNIT}`,
    'Wants=network-online.target',
    '',
    '[Service]',
    'Type=exec',
    `EnvironmentFile=-${AGENT_ENV_FILE}`,
    `ExecStart=${command(palisade, ['agent', '--state-dir', quote(stateDir), '$PALISADE_AGENT_ARGS'])}`,
    'Restart=always',
    'RestartSec=5s',
    'KillMode=mixed',
    'TimeoutStopSec=20s',
    ...sandbox(stateDir),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** Writes both units into `unitDir` (made if missing) and returns their paths; enabling them is left to the administrator. */
export async function installService(unitDir: string, stateDir: string): Promise<string[]> {
  const units: Array<[string, string]> = [
    [RESTORE_UNIT, restoreUnit(stateDir)],
    [AGENT_UNIT, agentUnit(stateDir)],
  ];
  await makeDirectory(unitDir);
  for (const [name, text] of units) await writeFileAtomic(join(unitDir, name), text, 0o644);
  return units.map(([name]) => join(unitDir, name));
}
