/**
 * The admin's side of the key layout: registrations written without a lease, and removal of a host (its
 * registration, observation, claims and liveness in one transaction: it leaves every peer's sets at once).
 */
import type { Etcd3 } from 'etcd3';
import type { AttributeValue } from '../inventory/types.ts';
import type { Keys } from './keys.ts';
import { checkRegistration, type Registration } from './published.ts';

export interface RegistrationInput {
  name: string;
  environment?: string;
  roles?: string[];
  tags?: string[];
  attributes?: Record<string, AttributeValue>;
  /** Pinned addresses: interface -> addresses. */
  interfaces?: Record<string, string[]>;
  lan?: string;
  users?: Record<string, number>;
  /** Where the agent may claim addresses. */
  networks?: string[];
  maxAddresses?: number;
  agent?: boolean;
}

/** The `hosts/<name>` value; checked as every reader will check it (an invalid one throws, naming why). */
export function encodeRegistration(keys: Keys, input: RegistrationInput): { text: string; registration: Registration } {
  const { maxAddresses, ...rest } = input;
  const value = { ...rest, ...(maxAddresses === undefined ? {} : { max_addresses: maxAddresses }) };
  const text = JSON.stringify(value);
  const checked = checkRegistration({ key: keys.host(input.name), value: text, createRevision: 0, leased: false }, input.name);
  if (checked.value === null) throw new RegistrationError(checked.diagnostics.map((d) => d.message.replace(/^rejected, not trusted: /, '')));
  return { text, registration: checked.value };
}

export class RegistrationError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

/** The deletions that remove everything of host `name` (its registration first), for one transaction. */
export function removalOps(client: Etcd3, keys: Keys, name: string): Array<ReturnType<Etcd3['delete']>> {
  return [client.delete().key(keys.host(name)), client.delete().key(keys.member(name)), client.delete().prefix(keys.claims(name)), client.delete().key(keys.aliveOf(name))];
}

/** Removes everything of host `name`; returns whether it had a registration. */
export async function removeHost(client: Etcd3, keys: Keys, name: string): Promise<boolean> {
  const result = await client
    .if(keys.host(name), 'Mod', '>', -1)
    .then(...removalOps(client, keys, name))
    .commit();
  const first = result.responses[0]?.response_delete_range;
  return Number(first?.deleted ?? 0) > 0;
}
