/**
 * `palisade fleet flows`: the denied or audited flows of every host of the fleet, from the `flows/<name>`
 * summaries agents publish (`palisade agent --flows-from ...`), added up, busiest first. A summary that
 * does not parse is reported and left out.
 */
import { readFleetFlows } from '../../app/fleet-flows.ts';
import type { FleetOptions } from '../../app/fleet.ts';
import { summariseFlows } from '../../audit/aggregate.ts';
import { toJson, type Output } from '../output.ts';
import { formatFlows, parseTop } from './flows.ts';

export interface FleetFlowsOptions extends FleetOptions {
  top: string;
  format: 'text' | 'json';
}

export async function fleetFlowsCommand(options: FleetFlowsOptions, output: Output): Promise<number> {
  const top = parseTop(options.top);
  const { hosts, flows, invalid } = await readFleetFlows(options);
  for (const why of invalid) output.err(`warning: ${why}`);
  const summary = summariseFlows(flows, top);
  if (options.format === 'json') output.out(toJson({ hosts, flows: summary.top, total: summary.flows, records: summary.records, omitted: summary.omitted }));
  else output.out(`${hosts.length} host(s) publish flows: ${hosts.join(', ') || 'none'}\n${formatFlows(summary.top, summary.omitted)}`);
  return 0;
}
