/**
 * Local users for `meta skuid` / `--uid-owner`: the inventory's users must exist with their uids. The lab
 * creates only the missing ones, never changes an existing account, and removes only what it created.
 */
import type { Host } from '../inventory/types.ts';
import { exec, run } from './command.ts';
import type { CreatedUser, SkippedUser } from './state.ts';

export interface WantedUsers {
  /** name -> uid, one uid per name across the inventory. */
  users: Map<string, number>;
  /** Names that hosts declare with different uids: the first declaration wins, the others are skipped. */
  skipped: SkippedUser[];
}

/** Pure: the users the inventory asks for, in name order. */
export function wantedUsers(hosts: readonly Host[]): WantedUsers {
  const users = new Map<string, number>();
  const skipped: SkippedUser[] = [];
  for (const host of hosts) {
    for (const [name, uid] of Object.entries(host.users)) {
      const known = users.get(name);
      if (known === undefined) users.set(name, uid);
      else if (known !== uid && !skipped.some((s) => s.name === name && s.uid === uid)) {
        skipped.push({ name, uid, reason: `${host.name} declares uid ${uid}, another host ${known}` });
      }
    }
  }
  return { users: new Map([...users].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), skipped };
}

async function getent(database: 'passwd' | 'group', key: string): Promise<string[] | null> {
  const result = await exec('getent', [database, key]);
  return result.code === 0 ? (result.stdout.split('\n')[0] as string).split(':') : null;
}

export type UserCheck = { kind: 'exists' } | { kind: 'missing' } | { kind: 'conflict'; reason: string };

/** Whether `name` exists with `uid`, is missing (and the uid free), or clashes with an existing account. */
export async function checkUser(name: string, uid: number): Promise<UserCheck> {
  const byName = await getent('passwd', name);
  if (byName !== null) {
    return Number(byName[2]) === uid ? { kind: 'exists' } : { kind: 'conflict', reason: `user ${name} exists with uid ${byName[2]}` };
  }
  const byUid = await getent('passwd', String(uid));
  return byUid === null ? { kind: 'missing' } : { kind: 'conflict', reason: `uid ${uid} belongs to ${byUid[0]}` };
}

/** A system account without home or login; its own group unless a group of that name already exists. */
export async function createUser(user: CreatedUser): Promise<void> {
  const ownGroup = (await getent('group', user.name)) === null;
  await run('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', ownGroup ? '--user-group' : '--no-user-group', '-u', String(user.uid), user.name]);
}

/** Removes a user the lab created, only while the account is still the one it created (same uid). */
export async function removeUser(user: CreatedUser): Promise<void> {
  const entry = await getent('passwd', user.name);
  if (entry === null || Number(entry[2]) !== user.uid) return;
  await run('userdel', [user.name]);
}
