/** `palisade hosts put FILE | --name ...` and `palisade hosts rm NAME`: static hosts of a fleet (src/app/hosts.ts). */
import type { FleetOptions } from '../../app/fleet.ts';
import { registerHosts, removeHost, staticHosts, type HostFields } from '../../app/hosts.ts';
import { OperationError } from '../../diagnostics.ts';
import { reportDiagnostics, type Output } from '../output.ts';

export interface HostsPutOptions extends FleetOptions, HostFields {}

export async function hostsPutCommand(file: string | undefined, options: HostsPutOptions, output: Output): Promise<number> {
  const hosts = await staticHosts(file, options);
  const { url, diagnostics } = await registerHosts(hosts, options);
  reportDiagnostics(output, diagnostics);
  output.out(`registered ${hosts.length} static host(s) in ${url}: ${hosts.map((h) => h.name).join(', ')}`);
  return 0;
}

export async function hostsRmCommand(name: string, options: FleetOptions, output: Output): Promise<number> {
  const { url, removed } = await removeHost(name, options);
  if (!removed) throw new OperationError(`no host "${name}" in ${url}`, { kind: 'fleet' });
  output.out(`removed host ${name} from ${url}`);
  return 0;
}
