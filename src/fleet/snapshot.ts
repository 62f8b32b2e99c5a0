/** Point-in-time reads: the hosts and the policy at one etcd revision, and every agent's status or flows. */
import type { Etcd3, IKeyValue } from 'etcd3';
import type { Keys } from './keys.ts';
import type { KeyEntry } from './published.ts';
import type { Snapshot } from './view.ts';

export function keyEntry(kv: IKeyValue): KeyEntry {
  return { key: kv.key.toString(), value: kv.value.toString(), createRevision: Number(kv.create_revision), leased: String(kv.lease) !== '0' };
}

/** Registrations, observations, claims and policy read at the same revision (the registrations read's). */
export async function readSnapshot(client: Etcd3, keys: Keys): Promise<Snapshot> {
  const hosts = await client.getAll().prefix(keys.hosts).exec();
  const revision = Number(hosts.header.revision);
  const [members, policy, candidate] = await Promise.all([
    client.getAll().prefix(keys.members).revision(revision).exec(),
    client.get(keys.policy).revision(revision).exec(),
    client.get(keys.candidate).revision(revision).exec(),
  ]);
  const value = policy.kvs[0]?.value.toString() ?? null;
  return { revision, hosts: [...hosts.kvs, ...members.kvs].map(keyEntry), policy: value, candidate: candidate.kvs[0]?.value.toString() ?? null };
}

/** Every `<under><name>` value by name: the agents' `status/` or `flows/` keys. */
export async function readPerHost(client: Etcd3, under: string): Promise<Map<string, string>> {
  const result = await client.getAll().prefix(under).exec();
  return new Map(result.kvs.map((kv) => [kv.key.toString().slice(under.length), kv.value.toString()]));
}
