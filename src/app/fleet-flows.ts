/** The denied or audited flows every agent publishes under `flows/<name>` (`agent --flows-from`), read from the fleet. */
import type { Flow } from '../audit/flow.ts';
import { fleetFlows } from '../fleet/flows.ts';
import { readPerHost } from '../fleet/snapshot.ts';
import { withFleet, type FleetOptions } from './fleet.ts';

export interface FleetFlows {
  /** Hosts that publish flows, sorted. */
  hosts: string[];
  flows: Flow[];
  /** Why a summary that does not parse was left out. */
  invalid: string[];
}

export async function readFleetFlows(options: FleetOptions): Promise<FleetFlows> {
  return withFleet(options, async ({ client, keys }) => {
    const values = await readPerHost(client, keys.flows);
    return { hosts: [...values.keys()].sort(), ...fleetFlows(values, keys.flows) };
  });
}
