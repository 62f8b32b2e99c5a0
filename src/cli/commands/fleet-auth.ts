/** `palisade fleet init-auth` and `palisade fleet add-agent NAME` (src/app/fleet-auth.ts); passwords not given are generated and printed once. */
import { addFleetAgent, fleetAt, generatePassword, initFleetAuth } from '../../app/fleet-auth.ts';
import type { FleetOptions } from '../../app/fleet.ts';
import type { Output } from '../output.ts';

export interface InitAuthOptions extends FleetOptions {
  endpoints?: string;
  prefix?: string;
  rootPassword?: string;
  adminPassword?: string;
}

export interface AddAgentOptions extends FleetOptions {
  agentPassword?: string;
}

export async function initAuthCommand(options: InitAuthOptions, output: Output): Promise<number> {
  const passwords = { root: options.rootPassword ?? generatePassword(), admin: options.adminPassword ?? generatePassword() };
  const location = await initFleetAuth(fleetAt(options, options.endpoints, options.prefix), passwords);
  output.out(`auth enabled on ${location.endpoints.join(',')}; role admin reads and writes ${location.prefix}/`);
  if (options.rootPassword === undefined) output.out(`root password: ${passwords.root}`);
  if (options.adminPassword === undefined) output.out(`admin password: ${passwords.admin}`);
  output.out('next, per host: palisade fleet add-agent NAME --user root --password-file ROOT_PASSWORD_FILE');
  return 0;
}

export async function addAgentCommand(name: string, options: AddAgentOptions, output: Output): Promise<number> {
  const password = options.agentPassword ?? generatePassword();
  const location = await addFleetAgent(name, password, options);
  output.out(`agent user ${name}: reads ${location.prefix}/, writes ${location.prefix}/hosts/${name} and ${location.prefix}/status/${name}`);
  if (options.agentPassword === undefined) output.out(`password: ${password}`);
  return 0;
}
