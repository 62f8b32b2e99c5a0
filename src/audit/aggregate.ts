/** Flow records → flows (one per source, destination, protocol, port, uid and verdict), and a bounded summary. */
import type { Flow, FlowKey, FlowRecord } from './flow.ts';

const key = (r: FlowKey): string =>
  [r.source, r.destination, r.protocol, r.port ?? '', r.uid ?? '', r.verdict].join('|');

const earlier = (a: string | null, b: string | null): string | null => (a === null ? b : b === null ? a : a < b ? a : b);
const later = (a: string | null, b: string | null): string | null => (a === null ? b : b === null ? a : a > b ? a : b);

/** Most records first, then by source, destination, protocol, port: a stable order. */
export function compareFlows(a: Flow, b: Flow): number {
  return b.count - a.count || key(a).localeCompare(key(b));
}

/** Adds up records (and already-aggregated flows, e.g. from several files) into flows, busiest first. */
export function aggregateFlows(items: ReadonlyArray<FlowRecord | Flow>): Flow[] {
  const flows = new Map<string, Flow>();
  for (const item of items) {
    const k = key(item);
    const isFlow = 'count' in item;
    const count = isFlow ? item.count : 1;
    const prefixes = isFlow ? item.prefixes : item.prefix === null ? [] : [item.prefix];
    const first = isFlow ? item.firstSeen : item.time;
    const last = isFlow ? item.lastSeen : item.time;
    const found = flows.get(k);
    if (found === undefined) {
      flows.set(k, {
        source: item.source,
        destination: item.destination,
        protocol: item.protocol,
        port: item.port,
        uid: item.uid,
        verdict: item.verdict,
        prefixes: [...new Set(prefixes)].sort(),
        count,
        packets: item.packets,
        firstSeen: first,
        lastSeen: last,
      });
      continue;
    }
    found.count += count;
    found.packets += item.packets;
    found.prefixes = [...new Set([...found.prefixes, ...prefixes])].sort();
    found.firstSeen = earlier(found.firstSeen, first);
    found.lastSeen = later(found.lastSeen, last);
  }
  return [...flows.values()].sort(compareFlows);
}

export interface FlowSummary {
  /** Distinct flows before the limit. */
  flows: number;
  /** Records over all flows. */
  records: number;
  /** The `limit` busiest flows. */
  top: Flow[];
  /** Flows left out by the limit. */
  omitted: number;
}

/** A bounded summary, small enough for fleet mode to keep under `flows/<name>`. */
export function summariseFlows(flows: readonly Flow[], limit: number): FlowSummary {
  const sorted = [...flows].sort(compareFlows);
  const top = sorted.slice(0, Math.max(0, limit));
  return { flows: flows.length, records: flows.reduce((n, f) => n + f.count, 0), top, omitted: sorted.length - top.length };
}
