/** `palisade flows`: the flows palisade's log records show on this host, busiest first. */
import { summariseFlows } from '../../audit/aggregate.ts';
import { DEFAULT_AUDIT_LOG, collectFlows } from '../../audit/collect.ts';
import type { Flow } from '../../audit/flow.ts';
import { toJson, type Output } from '../output.ts';
import { UsageError } from '../../diagnostics.ts';

export interface FlowsOptions {
  kernel?: boolean;
  top: string;
  format: 'text' | 'json';
}

const port = (f: Flow): string => `${f.protocol}${f.port === null ? '' : `/${f.port}`}`;

export function formatFlows(flows: readonly Flow[], omitted: number): string {
  if (flows.length === 0) return 'no flows in the log records\n';
  const rows = flows.map((f) => [
    String(f.count),
    f.source,
    f.destination,
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
  const paths = files.length > 0 || options.kernel === true ? files : [DEFAULT_AUDIT_LOG];
  const summary = summariseFlows(await collectFlows(paths, options.kernel === true), top);
  output.out(options.format === 'json' ? toJson({ flows: summary.top, total: summary.flows, records: summary.records, omitted: summary.omitted }) : formatFlows(summary.top, summary.omitted));
  return 0;
}
