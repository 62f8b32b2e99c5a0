/**
 * Fleet security: `init-auth` (users root and admin, role admin, then auth on) and `add-agent NAME` (user NAME
 * whose role reads the prefix and writes only hosts/NAME, status/NAME and flows/NAME).
 */
import { randomBytes } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { UsageError } from '../diagnostics.ts';
import { fileError } from './files.ts';
import { addAgent, initAuth } from '../fleet/auth.ts';
import type { EtcdLocation } from '../fleet/url.ts';
import { nameProblem } from '../inventory/names.ts';
import { withFleet, type FleetOptions } from './fleet.ts';

/** A password for a user whose password was not given. */
export const generatePassword = (): string => randomBytes(18).toString('base64url');

export interface ObtainedPassword {
  password: string;
  /** Where it came from or went: `file` (read), `written` (generated, stored with mode 0600), `env`, `stdin`, or `generated` (to print once). */
  source: 'file' | 'written' | 'env' | 'stdin' | 'generated';
}

const MAX_PASSWORD_FILE = 4096;

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_PASSWORD_FILE) throw new UsageError('a password on standard input is one line');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8').split('\n')[0]?.trim() ?? '';
}

/**
 * A secret never from the command line (it would show in `ps` and the shell history): from FILE when it exists
 * (`-`: standard input), else from the environment variable, else generated, and then written to FILE with
 * mode 0600 (created, never over an existing file) when one was named, or returned to be printed once.
 */
export async function obtainPassword(file: string | undefined, envName: string, env: NodeJS.ProcessEnv = process.env): Promise<ObtainedPassword> {
  const nonEmpty = (password: string, where: string): string => {
    if (password === '') throw new UsageError(`${where} holds an empty password`);
    return password;
  };
  if (file === '-') return { password: nonEmpty(await readStdinLine(), 'standard input'), source: 'stdin' };
  if (file !== undefined) {
    try {
      const text = await readFile(file, 'utf8');
      if (text.length > MAX_PASSWORD_FILE) throw new UsageError(`${file} is not a password file (over ${MAX_PASSWORD_FILE} bytes)`);
      return { password: nonEmpty(text.split('\n')[0]?.trim() ?? '', file), source: 'file' };
    } catch (cause) {
      if (cause instanceof UsageError) throw cause;
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError(file, 'read', cause, true);
    }
  }
  const fromEnv = env[envName];
  if (fromEnv !== undefined && fromEnv !== '') return { password: fromEnv, source: 'env' };
  const password = generatePassword();
  if (file === undefined) return { password, source: 'generated' };
  try {
    const handle = await open(file, 'wx', 0o600);
    await handle.writeFile(`${password}\n`);
    await handle.close();
  } catch (cause) {
    throw fileError(file, 'write the generated password to', cause, true);
  }
  return { password, source: 'written' };
}

/** A fleet named by its members (`--endpoints`) and prefix, for init-auth, which runs before anything else knows the fleet. */
export function fleetAt(options: FleetOptions, endpoints: string | undefined, prefix: string | undefined): FleetOptions {
  if (endpoints === undefined) return options;
  const hosts = endpoints.split(',').map((e) => e.replace(/^https?:\/\//, '')).join(',');
  return { ...options, inventory: `etcd://${hosts}${prefix ?? ''}` };
}

export async function initFleetAuth(options: FleetOptions, passwords: { root: string; admin: string }): Promise<EtcdLocation> {
  return withFleet(options, async ({ client, location }) => {
    await initAuth(client, location.prefix, passwords);
    return location;
  });
}

export async function addFleetAgent(name: string, password: string, options: FleetOptions): Promise<EtcdLocation> {
  const problem = nameProblem('host', name);
  if (problem !== null) throw new UsageError(`invalid host name "${name}": ${problem}`);
  return withFleet(options, async ({ client, location }) => {
    await addAgent(client, location.prefix, name, password);
    return location;
  });
}
