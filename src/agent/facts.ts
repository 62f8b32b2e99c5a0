/**
 * What an agent observes of its host and publishes under `members/<name>`: interfaces and their global
 * addresses from `ip -j addr` in the target namespace, the lan (declared, else the default route's
 * interface) and the local users the policy names plus the declared ones (from /etc/passwd: facts stay small).
 * Identity (environment, roles, tags, attributes) is the registration's, never the agent's.
 */
import { readFile } from 'node:fs/promises';
import { runTool, type Target } from '../kernel/exec.ts';
import type { DeclaredFacts } from './facts-file.ts';

interface AddrJson {
  ifname?: string;
  flags?: string[];
  addr_info?: Array<{ local?: string; scope?: string }>;
}

/** Pure: interface -> global addresses, loopback and link-local left out. */
export function interfacesFrom(links: readonly AddrJson[]): Record<string, string[]> {
  const interfaces: Record<string, string[]> = {};
  for (const link of links) {
    if (link.ifname === undefined || link.flags?.includes('LOOPBACK')) continue;
    const addresses = (link.addr_info ?? []).filter((a) => a.scope === 'global' && a.local !== undefined).map((a) => a.local as string);
    if (addresses.length > 0) interfaces[link.ifname] = addresses;
  }
  return interfaces;
}

/** Pure: users of /etc/passwd text whose names are wanted, name -> uid. */
export function usersFrom(passwd: string, wanted: ReadonlySet<string>): Record<string, number> {
  const users: Record<string, number> = {};
  for (const line of passwd.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name !== undefined && uid !== undefined && wanted.has(name) && /^\d+$/.test(uid)) users[name] = Number(uid);
  }
  return users;
}

async function defaultRouteInterface(target: Target): Promise<string | undefined> {
  const routes = JSON.parse(await runTool(target, 'ip', ['-j', 'route', 'show', 'default'], undefined, 'reading the default route')) as Array<{ dev?: string }>;
  return routes[0]?.dev;
}

export interface GatherOptions {
  name: string;
  target: Target;
  declared: DeclaredFacts;
  /** Users the current policy names. */
  policyUsers: readonly string[];
  passwdFile?: string;
}

/** The observation as published (validated again by every reader). */
export async function gatherFacts(options: GatherOptions): Promise<Record<string, unknown>> {
  const { declared } = options;
  const links = JSON.parse(await runTool(options.target, 'ip', ['-j', 'addr', 'show'], undefined, 'listing interface addresses')) as AddrJson[];
  const interfaces = interfacesFrom(links);
  const lan = declared.lan ?? (await defaultRouteInterface(options.target));
  const passwd = await readFile(options.passwdFile ?? '/etc/passwd', 'utf8');
  return {
    name: options.name,
    interfaces,
    ...(lan !== undefined && interfaces[lan] !== undefined ? { lan } : {}),
    users: usersFrom(passwd, new Set([...options.policyUsers, ...declared.users])),
  };
}
