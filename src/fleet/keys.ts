/**
 * The key layout under the prefix (docs/fleet.md): `hosts/<name>` registrations (admin), `members/<name>`
 * observations and `members/<name>/<address>` address claims (agent, on its membership lease), `alive/<name>`
 * (agent, on its heartbeat lease), `policy`, `status/<name>`, `flows/<name>`, `counters/<name>` (agent, on its
 * heartbeat lease).
 */

export interface Keys {
  /** `<prefix>/hosts/`: every host's registration: identity and the networks it may claim addresses in. */
  hosts: string;
  /** `<prefix>/members/`: what agents observe (addresses, lan, users, version) and their address claims. */
  members: string;
  /** `<prefix>/alive/`: one key per running agent, on a short lease (liveness, not membership). */
  alive: string;
  policy: string;
  /** `<prefix>/policy-candidate`: a policy under canary rollout, and its canary hosts. */
  candidate: string;
  /** `<prefix>/status/`: what every agent applied. */
  status: string;
  /** `<prefix>/flows/`: every agent's summary of its denied or audited flows (issue 6). */
  flows: string;
  /** `<prefix>/drops/`: a canary's drop counter samples during a rollout (src/fleet/drop-rate.ts). */
  drops: string;
  dropsOf(name: string): string;
  /** `<prefix>/counters/`: every agent's drop and reject totals, put when they change, on its liveness lease (src/fleet/counters.ts). */
  counters: string;
  countersOf(name: string): string;
  /** `<prefix>/hosts-sync`: the source and host names of the last `hosts sync` (the hosts it may remove). */
  sync: string;
  host(name: string): string;
  member(name: string): string;
  /** `members/<name>/`: the prefix of the host's address claims. */
  claims(name: string): string;
  claim(name: string, address: string): string;
  aliveOf(name: string): string;
  statusOf(name: string): string;
  flowsOf(name: string): string;
}

export function fleetKeys(prefix: string): Keys {
  return {
    hosts: `${prefix}/hosts/`,
    members: `${prefix}/members/`,
    alive: `${prefix}/alive/`,
    policy: `${prefix}/policy`,
    candidate: `${prefix}/policy-candidate`,
    status: `${prefix}/status/`,
    flows: `${prefix}/flows/`,
    sync: `${prefix}/hosts-sync`,
    drops: `${prefix}/drops/`,
    dropsOf: (name) => `${prefix}/drops/${name}`,
    counters: `${prefix}/counters/`,
    countersOf: (name) => `${prefix}/counters/${name}`,
    host: (name) => `${prefix}/hosts/${name}`,
    member: (name) => `${prefix}/members/${name}`,
    claims: (name) => `${prefix}/members/${name}/`,
    claim: (name, address) => `${prefix}/members/${name}/${address}`,
    aliveOf: (name) => `${prefix}/alive/${name}`,
    statusOf: (name) => `${prefix}/status/${name}`,
    flowsOf: (name) => `${prefix}/flows/${name}`,
  };
}

/** The name after `under` in `key`, or null when the key is not directly under it. */
export function nameUnder(key: string, under: string): string | null {
  if (!key.startsWith(under)) return null;
  const name = key.slice(under.length);
  return name === '' || name.includes('/') ? null : name;
}

/** What a key under `members/` is: an observation (`<name>`) or a claim (`<name>/<address>`); null for anything else. */
export function memberKey(key: string, keys: Keys): { name: string; address: string | null } | null {
  if (!key.startsWith(keys.members)) return null;
  const parts = key.slice(keys.members.length).split('/');
  if (parts.length === 1 && parts[0] !== '') return { name: parts[0] as string, address: null };
  if (parts.length === 2 && parts[0] !== '' && parts[1] !== '') return { name: parts[0] as string, address: parts[1] as string };
  return null;
}
