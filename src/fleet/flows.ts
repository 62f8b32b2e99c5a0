/**
 * `flows/<name>`: what an agent publishes of its host's denied or audited flows, bounded (the busiest
 * FLOWS_LIMIT), and the fleet's view: every host's summary added up into one list of flows.
 */
import { aggregateFlows, summariseFlows, type FlowSummary } from '../audit/aggregate.ts';
import { checkFlow, type Flow } from '../audit/flow.ts';

/** Flows an agent keeps under its key: a few tens of kilobytes at most. */
export const FLOWS_LIMIT = 200;

export interface PublishedFlows {
  host: string;
  /** When the summary was made (ISO). */
  at: string;
  summary: FlowSummary;
}

export function publishedFlows(host: string, flows: readonly Flow[], at: Date): PublishedFlows {
  return { host, at: at.toISOString(), summary: summariseFlows(flows, FLOWS_LIMIT) };
}

/** Reads one `flows/<name>` value; what does not parse is reported, not trusted. */
export function parsePublishedFlows(key: string, text: string): Flow[] {
  const value = JSON.parse(text) as { summary?: { top?: unknown } };
  const top = value.summary?.top;
  if (!Array.isArray(top)) throw new Error(`${key}: expected {"summary": {"top": [...]}}`);
  return top.map((f, i) => checkFlow(f, `${key}: top[${i}]`));
}

/** Every host's published flows, added up; the keys that do not parse, with why. */
export function fleetFlows(values: ReadonlyMap<string, string>, under: string): { flows: Flow[]; invalid: string[] } {
  const flows: Flow[] = [];
  const invalid: string[] = [];
  for (const [name, text] of values) {
    try {
      flows.push(...parsePublishedFlows(`${under}${name}`, text));
    } catch (cause) {
      invalid.push((cause as Error).message);
    }
  }
  return { flows: aggregateFlows(flows), invalid };
}
