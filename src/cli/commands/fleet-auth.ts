/** `palisade fleet init-auth` and `palisade fleet add-agent NAME` (src/app/fleet-auth.ts); passwords not given are generated and printed once. */
import { addFleetAgent, fleetAt, generatePassword, initFleetAuth } from '../../app/fleet-auth.ts';
import type { FleetOptions } from '../../app/fleet.ts';
import { registerAgentHost } from '../../app/hosts.ts';
import { UsageError } from '../../diagnostics.ts';
import type { RegistrationInput } from '../../fleet/registry.ts';
import { reportDiagnostics, type Output } from '../output.ts';

export interface InitAuthOptions extends FleetOptions {
  endpoints?: string;
  prefix?: string;
  rootPassword?: string;
  adminPassword?: string;
}

export interface AddAgentOptions extends FleetOptions {
  agentPassword?: string;
  environment?: string;
  role?: string[];
  tag?: string[];
  attribute?: string[];
  network?: string[];
  address?: string[];
  lan?: string;
  maxAddresses?: number;
}

/** `--attribute KEY=VALUE`... as attributes (values are strings). */
function attributes(pairs: readonly string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--attribute ${pair}: expected KEY=VALUE`);
    result[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return result;
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
  if (options.network === undefined && options.address === undefined) throw new UsageError('an agent claims addresses only inside its registered networks: give --network CIDR... (or pin --address ...)');
  const registration: RegistrationInput = {
    name,
    ...(options.environment === undefined ? {} : { environment: options.environment }),
    roles: options.role ?? [],
    tags: options.tag ?? [],
    attributes: attributes(options.attribute ?? []),
    networks: options.network ?? [],
    ...(options.address === undefined ? {} : { interfaces: { [options.lan ?? 'lan']: options.address } }),
    ...(options.lan === undefined ? (options.address === undefined ? {} : { lan: 'lan' }) : { lan: options.lan }),
    ...(options.maxAddresses === undefined ? {} : { maxAddresses: options.maxAddresses }),
    agent: true,
  };
  const password = options.agentPassword ?? generatePassword();
  const { diagnostics } = await registerAgentHost(registration, options);
  const location = await addFleetAgent(name, password, options);
  reportDiagnostics(output, diagnostics);
  output.out(`registered ${name} (roles ${registration.roles?.join(',') || '-'}; addresses in ${registration.networks?.join(', ') || 'pinned only'})`);
  output.out(`agent user ${name}: reads ${location.prefix}/, writes ${location.prefix}/members/${name}, its address claims, alive/${name}, status/${name} and flows/${name}`);
  if (options.agentPassword === undefined) output.out(`password: ${password}`);
  return 0;
}
