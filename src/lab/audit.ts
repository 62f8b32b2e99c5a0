/**
 * `lab audit`: ulogd2 in every host's namespace with the shipped configuration (examples/audit/ulogd.conf),
 * each host's audit records in a JSON file of its own under /run/palisade-lab/<lab>-audit/, so audit
 * mode's records are collected with no hand work; `palisade flows --lab` reads them. The daemons live in
 * the namespaces: `lab down` ends them with the namespaces and removes the directory.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ulogdConfig } from '../audit/ulogd-config.ts';
import { exec, run } from './command.ts';
import { LabError, STATE_DIR, checkLabName, writeState, type LabHost, type LabState } from './state.ts';
import type { Log } from './topology.ts';

export const auditDir = (lab: string): string => join(STATE_DIR, `${checkLabName(lab)}-audit`);

/** A host's files in the audit directory are named by its namespace (a name the lab made, safe as a file name). */
const stem = (dir: string, host: LabHost): string => join(dir, host.namespace);

/** The JSON file of each host's audit records, in the lab's host order; empty before `lab audit`. */
export function auditLogs(state: LabState): Array<{ host: string; file: string }> {
  const dir = state.audit;
  return dir === null || dir === undefined ? [] : state.hosts.map((h) => ({ host: h.host, file: `${stem(dir, h)}.json` }));
}

/** Whether the ulogd2 whose pid file this is still runs. */
function running(pidFile: string): boolean {
  try {
    const pid = readFileSync(pidFile, 'utf8').trim();
    return /^\d+$/.test(pid) && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'ulogd';
  } catch {
    return false;
  }
}

async function checkUlogd(): Promise<void> {
  const installed = await exec('ulogd', ['--version']).then(
    (r) => r.code === 0,
    () => false,
  );
  if (!installed) throw new LabError('lab audit needs ulogd2 and its JSON output: apt install ulogd2 ulogd2-json', { unchanged: true });
}

/** Starts ulogd2 on NFLOG `group` in every host's namespace that does not run it yet; returns how many were started. */
export async function labAudit(state: LabState, group: number, log: Log): Promise<number> {
  await checkUlogd();
  const dir = auditDir(state.lab);
  if (state.audit !== dir) {
    state.audit = dir;
    await writeState(state);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let started = 0;
  for (const host of state.hosts) {
    const base = stem(dir, host);
    if (running(`${base}.pid`)) continue;
    await writeFile(`${base}.conf`, ulogdConfig(base, group), { mode: 0o600 });
    /* -d returns once ulogd2 listens on its NFLOG group, so records are collected from here on. */
    await run('ip', ['netns', 'exec', host.namespace, 'ulogd', '-d', '-c', `${base}.conf`, '-p', `${base}.pid`]);
    started++;
  }
  log(
    `lab ${state.lab}: ulogd2 collects audit records in ${state.hosts.length} namespaces${started < state.hosts.length ? ` (${state.hosts.length - started} already were)` : ''}; ` +
      `read them with \`palisade flows --lab ${state.lab}\``,
  );
  return started;
}
