/**
 * Fleet security: `init-auth` (users root and admin, role admin, then auth on) and `add-agent NAME` (user NAME
 * whose role reads the prefix and writes only hosts/NAME, status/NAME and flows/NAME).
 */
import { randomBytes } from 'node:crypto';
import { UsageError } from '../diagnostics.ts';
import { addAgent, initAuth } from '../fleet/auth.ts';
import type { EtcdLocation } from '../fleet/url.ts';
import { nameProblem } from '../inventory/names.ts';
import { withFleet, type FleetOptions } from './fleet.ts';

/** A password for a user whose password was not given. */
export const generatePassword = (): string => randomBytes(18).toString('base64url');

/** A fleet named by its members (`--endpoints`) and prefix, for init-auth, which runs before anything else knows the fleet. */
export function fleetAt(options: FleetOptions, endpoints: string | undefined, prefix: string | undefined): FleetOptions {
  if (endpoints === undefined) return options;
  const hosts = endpoints.split(',').map((e) => e.replace(/^https?:\/\//, '')).join(',');
  return { ...options, inventory: `etcd://${hosts}${prefix ?? ''}` };
}

export async function initFleetAuth(options: FleetOptions, passwords: { root: string; admin: string }): Promise<EtcdLocation> {
  return withFleet(options, async ({ client, location }) => {
    await initAuth(client, location.prefix, passwords);
    return location;
  });
}

export async function addFleetAgent(name: string, password: string, options: FleetOptions): Promise<EtcdLocation> {
  const problem = nameProblem('host', name);
  if (problem !== null) throw new UsageError(`invalid host name "${name}": ${problem}`);
  return withFleet(options, async ({ client, location }) => {
    await addAgent(client, location.prefix, name, password);
    return location;
  });
}
