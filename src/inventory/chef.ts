/** Maps one row of `knife search node '*:*' -F json` to the raw host shape that host.ts validates. */
import { isUid, isValidName } from './names.ts';

type Fields = Record<string, unknown>;

function record(value: unknown): Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Fields) : {};
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Ohai scopes that are not reachable from other hosts. */
const LOCAL_SCOPES = new Set(['link', 'node', 'host']);

/** `role[web]` run-list entries name roles too (recipes do not). */
function runListRoles(runList: unknown): string[] {
  return strings(runList).flatMap((entry) => /^role\[(.+)\]$/.exec(entry.trim())?.[1] ?? []);
}

/** The device of an interface label: alias labels (`eth0:1`) and ip link's peer notation (`eth0@if5`) fold into it. */
function deviceOf(label: string): string {
  return label.split(/[:@]/)[0] ?? label;
}

/** Global inet/inet6 addresses per interface (by device), `lo` skipped. */
function interfacesOf(network: Fields): Record<string, string[]> {
  const interfaces: Record<string, string[]> = {};
  for (const [label, facts] of Object.entries(record(network['interfaces']))) {
    const device = deviceOf(label);
    if (device === 'lo') continue;
    for (const [address, info] of Object.entries(record(record(facts)['addresses']))) {
      const { family, scope } = record(info);
      if (family !== 'inet' && family !== 'inet6') continue;
      if (typeof scope === 'string' && LOCAL_SCOPES.has(scope.toLowerCase())) continue;
      (interfaces[device] ??= []).push(address);
    }
  }
  return interfaces;
}

/** Local users with a usable name and uid (a directory-service account with another shape is left out). */
function usersOf(passwd: unknown): Record<string, number> {
  const users: Record<string, number> = {};
  for (const [name, entry] of Object.entries(record(passwd))) {
    const uid = record(entry)['uid'];
    if (isValidName('user', name) && isUid(uid)) users[name] = uid;
  }
  return users;
}

/** The raw host of one knife row; missing sections give empty fields. */
export function chefNodeToHost(row: unknown): Fields {
  const node = record(row);
  const automatic = record(node['automatic']);
  const normal = record(node['normal']);
  const network = record(automatic['network']);
  const interfaces = interfacesOf(network);
  const lan = typeof network['default_interface'] === 'string' ? deviceOf(network['default_interface']) : undefined;
  const attributes: Fields = {};
  if (normal['afw'] !== undefined) attributes['afw'] = normal['afw'];
  for (const key of ['fqdn', 'platform', 'platform_version']) {
    if (automatic[key] !== undefined && automatic[key] !== null) attributes[key] = automatic[key];
  }
  return {
    name: node['name'],
    environment: node['chef_environment'] ?? '_default',
    roles: [...new Set([...strings(automatic['roles']), ...runListRoles(node['run_list'])])].sort(),
    tags: strings(normal['tags']),
    interfaces,
    ...(lan !== undefined && isValidName('interface', lan) && (interfaces[lan]?.length ?? 0) > 0 ? { lan } : {}),
    users: usersOf(record(automatic['etc'])['passwd']),
    attributes,
  };
}
