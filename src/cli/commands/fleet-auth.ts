/**
 * `palisade fleet init-auth` (users root and admin, role admin, then auth on) and `palisade fleet add-agent
 * NAME` (user NAME whose role reads the prefix and writes only hosts/NAME and status/NAME). Passwords not
 * given are generated and printed once.
 */
import { randomBytes } from 'node:crypto';
import { addAgent, initAuth } from '../../fleet/auth.ts';
import { HOST_NAME, HOST_NAME_RULE } from '../../inventory/names.ts';
import type { Output } from '../output.ts';
import { UsageError } from '../../diagnostics.ts';
import { withFleet, type FleetOptions } from './fleet-connection.ts';

export interface InitAuthOptions extends FleetOptions {
  endpoints?: string;
  prefix?: string;
  rootPassword?: string;
  adminPassword?: string;
}

export interface AddAgentOptions extends FleetOptions {
  agentPassword?: string;
}

const generated = (): string => randomBytes(18).toString('base64url');

/** --endpoints and --prefix as an etcd:// URL (init-auth runs before anything else knows the fleet). */
function withEndpoints(options: InitAuthOptions): FleetOptions {
  if (options.endpoints === undefined) return options;
  const hosts = options.endpoints.split(',').map((e) => e.replace(/^https?:\/\//, '')).join(',');
  return { ...options, inventory: `etcd://${hosts}${options.prefix ?? ''}` };
}

export async function initAuthCommand(options: InitAuthOptions, output: Output): Promise<number> {
  const passwords = { root: options.rootPassword ?? generated(), admin: options.adminPassword ?? generated() };
  return withFleet(withEndpoints(options), async ({ client, location }) => {
    await initAuth(client, location.prefix, passwords);
    output.out(`auth enabled on ${location.endpoints.join(',')}; role admin reads and writes ${location.prefix}/`);
    if (options.rootPassword === undefined) output.out(`root password: ${passwords.root}`);
    if (options.adminPassword === undefined) output.out(`admin password: ${passwords.admin}`);
    output.out('next, per host: palisade fleet add-agent NAME --user root --password-file ROOT_PASSWORD_FILE');
    return 0;
  });
}

export async function addAgentCommand(name: string, options: AddAgentOptions, output: Output): Promise<number> {
  if (!HOST_NAME.test(name)) throw new UsageError(`invalid host name "${name}": use ${HOST_NAME_RULE}`);
  const password = options.agentPassword ?? generated();
  return withFleet(options, async ({ client, location }) => {
    await addAgent(client, location.prefix, name, password);
    output.out(`agent user ${name}: reads ${location.prefix}/, writes ${location.prefix}/hosts/${name} and ${location.prefix}/status/${name}`);
    if (options.agentPassword === undefined) output.out(`password: ${password}`);
    return 0;
  });
}
