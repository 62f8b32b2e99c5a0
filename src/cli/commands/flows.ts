/** `palisade flows`: the flows palisade's log records show on this host (or a lab's hosts), busiest first. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { summariseFlows } from '../../audit/aggregate.ts';
import { DEFAULT_AUDIT_LOG, collectFlows } from '../../audit/collect.ts';
import type { Flow } from '../../audit/flow.ts';
import { nameFlows, namerOfAddresses, namerOfHosts, noNames, withName, type HostNamer } from '../../audit/host-names.ts';
import { CONFIG_FILE } from '../../app/config.ts';
import { loadInventoryOf } from '../../app/workspace.ts';
import { auditLogs } from '../../lab/audit.ts';
import { LabError, checkLabName, readState, type LabState } from '../../lab/state.ts';
import { toJson, type Output } from '../output.ts';
import { UsageError } from '../../diagnostics.ts';

export interface NamingOptions {
  config?: string;
  inventory?: string;
}

export interface FlowsOptions extends NamingOptions {
  kernel?: boolean;
  top: string;
  lab?: string;
  format: 'text' | 'json';
}

/**
 * Who owns the addresses: the inventory of --inventory or --config, else the lab's hosts, else the
 * inventory of ./palisade.yaml when there is one (best effort: if it cannot be read, `warn` says so and
 * addresses stand alone, as they do without any of these).
 */
export async function hostNamer(options: NamingOptions, lab: LabState | null, warn: (line: string) => void): Promise<HostNamer> {
  const naming = { config: options.config, inventory: options.inventory };
  if (options.inventory !== undefined || options.config !== undefined) return namerOfHosts((await loadInventoryOf(naming)).hosts);
  if (lab !== null) return namerOfAddresses(lab.hosts);
  if (!existsSync(resolve(CONFIG_FILE))) return noNames;
  try {
    return namerOfHosts((await loadInventoryOf(naming)).hosts);
  } catch (cause) {
    warn(`no host names: the inventory of ${CONFIG_FILE} cannot be read (${cause instanceof Error ? cause.message.split('\n')[0] : String(cause)})`);
    return noNames;
  }
}

/** The audit record files `lab audit` keeps for every host of the lab. */
async function labLogs(name: string): Promise<{ state: LabState; files: string[] }> {
  const state = await readState(checkLabName(name));
  if (state === null) throw new LabError(`lab ${name} is not up: run \`palisade lab up --lab ${name}\` first`);
  const logs = auditLogs(state);
  if (logs.length === 0) throw new LabError(`lab ${name} collects no audit records: run \`palisade lab audit --lab ${name}\` first`);
  return { state, files: logs.map((l) => l.file) };
}

const port = (f: Flow): string => `${f.protocol}${f.port === null ? '' : `/${f.port}`}`;

export function formatFlows(flows: readonly Flow[], omitted: number, namer: HostNamer = noNames): string {
  if (flows.length === 0) return 'no flows in the log records\n';
  const rows = flows.map((f) => [
    String(f.count),
    withName(f.source, namer(f.source)),
    withName(f.destination, namer(f.destination)),
    port(f),
    f.uid === null ? '-' : String(f.uid),
    f.prefixes.join(',') || f.verdict,
    f.firstSeen ?? '-',
    f.lastSeen ?? '-',
  ]);
  const header = ['COUNT', 'SOURCE', 'DESTINATION', 'PORT', 'UID', 'LOGGED AS', 'FIRST SEEN', 'LAST SEEN'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  const more = omitted > 0 ? `\n... and ${omitted} more flow(s) (--top)` : '';
  return `${[line(header), ...rows.map(line)].join('\n')}${more}\n`;
}

/** `--top N`: how many of the busiest flows to show. */
export function parseTop(text: string): number {
  const top = Number(text);
  if (!Number.isInteger(top) || top < 1) throw new UsageError(`--top ${text}: expected a positive number`);
  return top;
}

export async function flowsCommand(files: string[], options: FlowsOptions, output: Output): Promise<number> {
  const top = parseTop(options.top);
  const lab = options.lab === undefined ? null : await labLogs(options.lab);
  const paths = lab !== null ? [...lab.files, ...files] : files.length > 0 || options.kernel === true ? files : [DEFAULT_AUDIT_LOG];
  const namer = await hostNamer(options, lab?.state ?? null, (line) => output.err(line));
  const summary = summariseFlows(await collectFlows(paths, options.kernel === true), top);
  output.out(
    options.format === 'json'
      ? toJson({ flows: nameFlows(summary.top, namer), total: summary.flows, records: summary.records, omitted: summary.omitted })
      : formatFlows(summary.top, summary.omitted, namer),
  );
  return 0;
}
