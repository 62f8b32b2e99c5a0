/**
 * Lab names and checks for tests that run labs: a name unique per run (so two copies of the suite on one
 * machine never share a lab), and which users a lab left behind that no other lab still holds.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { otherLabs } from '../../src/lab/state.ts';

/** `prefix` (up to 6 characters) and 5 random hex digits: within the 12 characters of a lab name. */
export const uniqueLab = (prefix: string): string => `${prefix}-${randomBytes(3).toString('hex').slice(0, 5)}`;

export const userExists = (name: string): boolean => spawnSync('getent', ['passwd', name]).status === 0;

/** Users of `names` that still exist although no lab other than `lab` holds them. */
export async function usersLeftBehind(lab: string, names: readonly string[]): Promise<string[]> {
  const held = new Set((await otherLabs(lab)).flatMap((other) => other.users.map((u) => u.name)));
  return names.filter((name) => userExists(name) && !held.has(name));
}
