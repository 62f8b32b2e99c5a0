/**
 * Denied-flow collection for `palisade flows`: palisade's log records read from ulogd2 JSON files (the
 * audit source, see ulogd.ts for why) and, on request, from the kernel log (`journalctl -k`), where
 * enforced `DROP_PAL_*` drops go. Every line is tried as ulogd JSON (`{...}`) or as a kernel log line.
 */
import { execTool } from '../kernel/exec.ts';
import { aggregateFlows } from './aggregate.ts';
import { FlowFileError, readFlowInput, type Flow, type FlowRecord } from './flow.ts';
import { parseKernelLogLine } from './kernel-log.ts';
import { parseUlogdLine } from './ulogd.ts';

/** Where the ulogd2 configuration of the docs writes palisade's NFLOG group. */
export const DEFAULT_AUDIT_LOG = '/var/log/ulog/palisade-audit.json';

export function parseLogText(text: string): FlowRecord[] {
  return text.split('\n').flatMap((line) => {
    const record = line.trimStart().startsWith('{') ? parseUlogdLine(line) : parseKernelLogLine(line);
    return record === null ? [] : [record];
  });
}

async function kernelLog(): Promise<string> {
  const result = await execTool({ netns: null }, 'journalctl', ['-k', '-o', 'short-iso', '--no-pager', '-q']);
  if (result.code !== 0) throw new FlowFileError(`journalctl -k failed (exit ${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

/** Reads the log files (and the kernel log when `kernel`) into flows, busiest first. */
export async function collectFlows(paths: readonly string[], kernel: boolean): Promise<Flow[]> {
  const records: FlowRecord[] = [];
  for (const path of paths) records.push(...parseLogText(await readFlowInput(path)));
  if (kernel) records.push(...parseLogText(await kernelLog()));
  return aggregateFlows(records);
}
