/**
 * etcd roles and users for a fleet: `root`; role `admin` (read and write the whole prefix: push, hosts put);
 * per agent a role `palisade-agent-<name>` that reads the prefix and writes only its observation and address
 * claims (`members/<name>`, `members/<name>/...`), `alive/<name>`, `status/<name>`, `flows/<name>`, `drops/<name>` and `counters/<name>`, held by
 * user `<name>`. Never `hosts/<name>`: a host's identity is the admin's registration. Creating what exists already updates it (passwords, grants).
 */
import type { Etcd3 } from 'etcd3';
import { fleetKeys } from './keys.ts';

export const ADMIN_ROLE = 'admin';
export const agentRole = (name: string): string => `palisade-agent-${name}`;

const exists = (cause: unknown): boolean => /already exists/i.test(String((cause as Error)?.message ?? cause));

async function ensureUser(client: Etcd3, name: string, password: string): Promise<void> {
  await client
    .user(name)
    .create(password)
    .catch(async (cause: unknown) => {
      if (!exists(cause)) throw cause;
      await client.user(name).setPassword(password);
    });
}

async function ensureRole(client: Etcd3, name: string): Promise<void> {
  await client
    .role(name)
    .create()
    .catch((cause: unknown) => {
      if (!exists(cause)) throw cause;
    });
}

/** Creates root (role root), role admin and user admin, then enables auth. */
export async function initAuth(client: Etcd3, prefix: string, passwords: { root: string; admin: string }): Promise<void> {
  await ensureRole(client, 'root');
  await ensureUser(client, 'root', passwords.root);
  await client.user('root').addRole('root');
  await ensureRole(client, ADMIN_ROLE);
  await client.role(ADMIN_ROLE).grant({ permission: 'Readwrite', range: client.range({ prefix: `${prefix}/` }) });
  await ensureUser(client, ADMIN_ROLE, passwords.admin);
  await client.user(ADMIN_ROLE).addRole(ADMIN_ROLE);
  await client.auth.authEnable({});
}

/** Creates (or resets) the agent user `name` and its role. */
export async function addAgent(client: Etcd3, prefix: string, name: string, password: string): Promise<void> {
  const keys = fleetKeys(prefix);
  const role = agentRole(name);
  await ensureRole(client, role);
  await client.role(role).grant([
    { permission: 'Read', range: client.range({ prefix: `${prefix}/` }) },
    { permission: 'Readwrite', key: keys.member(name) },
    { permission: 'Readwrite', range: client.range({ prefix: keys.claims(name) }) },
    { permission: 'Readwrite', key: keys.aliveOf(name) },
    { permission: 'Readwrite', key: keys.statusOf(name) },
    { permission: 'Readwrite', key: keys.flowsOf(name) },
    { permission: 'Readwrite', key: keys.dropsOf(name) },
    { permission: 'Readwrite', key: keys.countersOf(name) },
  ]);
  /* Agents created before the registration/observation split could write their registration: not any more. */
  await client
    .role(role)
    .revoke({ permission: 'Readwrite', key: keys.host(name) })
    .catch(() => undefined);
  await ensureUser(client, name, password);
  await client.user(name).addRole(role);
}
