/**
 * `palisade fleet init-auth` and `palisade fleet add-agent NAME` (src/app/fleet-auth.ts). Passwords come from
 * files, standard input or the environment, never from the command line; a password file that does not exist
 * is created with a generated password (mode 0600); with no file, a generated password is printed once.
 */
import { addFleetAgent, fleetAt, initFleetAuth, obtainPassword, type ObtainedPassword } from '../../app/fleet-auth.ts';
import type { FleetOptions } from '../../app/fleet.ts';
import { registerAgentHost } from '../../app/hosts.ts';
import { UsageError } from '../../diagnostics.ts';
import type { RegistrationInput } from '../../fleet/registry.ts';
import { refuseSecretFlags } from '../options.ts';
import { reportDiagnostics, type Output } from '../output.ts';

export interface InitAuthOptions extends FleetOptions {
  endpoints?: string;
  prefix?: string;
  rootPasswordFile?: string;
  adminPasswordFile?: string;
}

export interface AddAgentOptions extends FleetOptions {
  agentPasswordFile?: string;
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

/** What became of a password, for the user: where it is stored, or the generated password itself (printed once). */
function passwordLine(user: string, obtained: ObtainedPassword, file: string | undefined): string | null {
  if (obtained.source === 'written') return `${user} password: generated, written to ${file} (mode 0600)`;
  return obtained.source === 'generated' ? `${user} password: ${obtained.password}` : null;
}

export async function initAuthCommand(options: InitAuthOptions, output: Output): Promise<number> {
  refuseSecretFlags(options, { rootPassword: '--root-password', adminPassword: '--admin-password' });
  if (options.rootPasswordFile === '-' && options.adminPasswordFile === '-') throw new UsageError('standard input (-) can hold one password: give the other as a file');
  const root = await obtainPassword(options.rootPasswordFile, 'PALISADE_ROOT_PASSWORD');
  const admin = await obtainPassword(options.adminPasswordFile, 'PALISADE_ADMIN_PASSWORD');
  const location = await initFleetAuth(fleetAt(options, options.endpoints, options.prefix), { root: root.password, admin: admin.password });
  output.out(`auth enabled on ${location.endpoints.join(',')}; role admin reads and writes ${location.prefix}/`);
  for (const line of [passwordLine('root', root, options.rootPasswordFile), passwordLine('admin', admin, options.adminPasswordFile)]) if (line !== null) output.out(line);
  output.out(`next, per host: palisade fleet add-agent NAME --user root --password-file ${options.rootPasswordFile ?? 'ROOT_PASSWORD_FILE'}`);
  return 0;
}

export async function addAgentCommand(name: string, options: AddAgentOptions, output: Output): Promise<number> {
  refuseSecretFlags(options, { agentPassword: '--agent-password' });
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
  const obtained = await obtainPassword(options.agentPasswordFile, 'PALISADE_AGENT_PASSWORD');
  const { diagnostics } = await registerAgentHost(registration, options);
  const location = await addFleetAgent(name, obtained.password, options);
  reportDiagnostics(output, diagnostics);
  output.out(`registered ${name} (roles ${registration.roles?.join(',') || '-'}; addresses in ${registration.networks?.join(', ') || 'pinned only'})`);
  output.out(`agent user ${name}: reads ${location.prefix}/, writes ${location.prefix}/members/${name}, its address claims, alive/${name}, status/${name} and flows/${name}`);
  if (obtained.source === 'written') output.out(`password: generated, written to ${options.agentPasswordFile} (mode 0600): copy it to the host's /etc/palisade/etcd.pass`);
  if (obtained.source === 'generated') output.out(`password: ${obtained.password}`);
  return 0;
}
