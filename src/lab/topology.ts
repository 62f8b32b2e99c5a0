/**
 * `lab up` / `lab down`: one network namespace per inventory host, its `lan` interface a veth whose other
 * end is a port of a bridge living in a namespace of its own (the machine's root namespace is never
 * touched). Every step is recorded in the lab's state before it is taken.
 */
import { rm } from 'node:fs/promises';
import type { Host } from '../inventory/types.ts';
import { addNamespace, deleteNamespace, ipBatch, namespaceExists, sysctl } from './namespaces.ts';
import { withUsersLock } from './lock.ts';
import { LabError, checkLabName, otherLabs, readState, removeState, writeState, type CreatedUser, type LabHost, type LabState } from './state.ts';
import { checkUser, createUser, removeUser, wantedUsers } from './users.ts';

export const BRIDGE = 'br0';

export const bridgeNamespace = (lab: string): string => `pal-${checkLabName(lab)}-br`;
export const hostNamespace = (lab: string, index: number): string => `pal-${checkLabName(lab)}-${index}`;

/** The bridged interface: the inventory's `lan`, else the host's first interface. */
export function lanOf(host: Host): string {
  const lan = host.lan ?? Object.keys(host.interfaces)[0];
  if (lan === undefined) throw new LabError(`host ${host.name} has no interface to put in the lab`);
  return lan;
}

/** Pure: which namespace and bridge port each host gets. */
export function labLayout(lab: string, hosts: readonly Host[]): LabHost[] {
  return hosts.map((host, index) => ({
    host: host.name,
    namespace: hostNamespace(lab, index),
    lan: lanOf(host),
    port: `v${index}`,
    addresses: Object.values(host.interfaces).flat(),
  }));
}

const prefixed = (address: string): string => (address.includes(':') ? `${address}/128 nodad` : `${address}/32`);

/**
 * Pure: the `ip -batch` lines configuring a host's namespace once its `lan` veth is there. Every address
 * is a single host reached on-link through the lan (default routes without gateway); each of the host's
 * other interfaces is one end of a veth pair local to the namespace (`dummy` links need a kernel module a
 * container may lack), holding its addresses, so interface-bound rules have their interface.
 */
export function hostCommands(host: Host, lan: string): string[] {
  const lines = ['link set lo up', `link set ${lan} up`];
  const lanAddresses = host.lan === undefined ? [...host.addresses.v4, ...host.addresses.v6] : (host.interfaces[lan] ?? []);
  for (const address of lanAddresses) lines.push(`addr add ${prefixed(address)} dev ${lan}`);
  if (lanAddresses.some((a) => !a.includes(':'))) lines.push(`route add 0.0.0.0/0 dev ${lan}`);
  if (lanAddresses.some((a) => a.includes(':'))) lines.push(`route add ::/0 dev ${lan}`);
  if (host.lan !== undefined) {
    for (const [index, [name, addresses]] of Object.entries(host.interfaces).entries()) {
      if (name === lan) continue;
      const peer = `palpeer${index}`;
      lines.push(`link add ${name} type veth peer name ${peer}`, `link set ${peer} up`, `link set ${name} up`, ...addresses.map((a) => `addr add ${prefixed(a)} dev ${name}`));
    }
  }
  return lines;
}

/** Per-namespace settings: no duplicate address detection (addresses are usable at once), ping for every uid. */
const HOST_SYSCTLS = {
  'net.ipv6.conf.all.accept_dad': '0',
  'net.ipv6.conf.default.accept_dad': '0',
  'net.ipv4.ping_group_range': '0 2147483647',
};

export type Log = (line: string) => void;

/** Work done of all, for a progress line. */
export type OnProgress = (done: number, total: number) => void;

/** Creates the lab; on failure undoes what it made and rethrows. */
export async function labUp(lab: string, hosts: readonly Host[], inventory: string, log: Log, onProgress?: OnProgress): Promise<LabState> {
  if ((await readState(lab)) !== null) throw new LabError(`lab ${lab} is already up: run \`palisade lab down --lab ${lab}\` first`);
  const wanted = wantedUsers(hosts);
  const state: LabState = {
    lab,
    inventory,
    bridgeNamespace: bridgeNamespace(lab),
    hosts: labLayout(lab, hosts),
    namespaces: [],
    users: [],
    skippedUsers: [...wanted.skipped],
    backend: null,
    revision: null,
    audit: null,
  };
  const taken = [state.bridgeNamespace, ...state.hosts.map((h) => h.namespace)].filter(namespaceExists);
  if (taken.length > 0) throw new LabError(`namespace ${taken.join(', ')} already exists but is not in lab ${lab}'s record: not touching it`);
  await writeState(state);
  try {
    await createUsers(state, wanted.users, log);
    state.namespaces.push(state.bridgeNamespace);
    await writeState(state);
    await addNamespace(state.bridgeNamespace);
    await ipBatch(state.bridgeNamespace, ['link set lo up', `link add ${BRIDGE} type bridge mcast_snooping 0`, `link set ${BRIDGE} up`]);
    for (const [index, labHost] of state.hosts.entries()) {
      const host = hosts[index] as Host;
      state.namespaces.push(labHost.namespace);
      await writeState(state);
      await addNamespace(labHost.namespace);
      await sysctl(labHost.namespace, HOST_SYSCTLS);
      await ipBatch(state.bridgeNamespace, [
        `link add ${labHost.port} type veth peer name ${labHost.lan} netns ${labHost.namespace}`,
        `link set ${labHost.port} master ${BRIDGE}`,
        `link set ${labHost.port} up`,
      ]);
      await ipBatch(labHost.namespace, hostCommands(host, labHost.lan));
      onProgress?.(index + 1, state.hosts.length);
    }
  } catch (cause) {
    log(`lab up failed, removing what it made: ${cause instanceof Error ? cause.message : String(cause)}`);
    await labDown(lab, log);
    throw cause;
  }
  log(`lab ${lab}: ${state.hosts.length} hosts in namespaces ${state.hosts[0]?.namespace ?? ''}..${state.hosts.at(-1)?.namespace ?? ''}, bridged in ${state.bridgeNamespace}`);
  return state;
}

/** Which labs other than `lab` hold each lab-made user (`name:uid`). */
async function heldElsewhere(lab: string): Promise<Map<string, string[]>> {
  const held = new Map<string, string[]>();
  for (const other of await otherLabs(lab)) {
    for (const user of other.users) held.set(userKey(user), [...(held.get(userKey(user)) ?? []), other.lab]);
  }
  return held;
}

const userKey = (user: CreatedUser): string => `${user.name}:${user.uid}`;

/**
 * Creates the missing users, and shares the ones another lab made (so the last lab holding a user removes
 * it); all under the users lock, so no other lab removes or creates them meanwhile.
 */
async function createUsers(state: LabState, users: ReadonlyMap<string, number>, log: Log): Promise<void> {
  await withUsersLock(async () => {
    const held = await heldElsewhere(state.lab);
    for (const [name, uid] of users) {
      const check = await checkUser(name, uid);
      const sharedWith = held.get(userKey({ name, uid }));
      if (check.kind === 'conflict') {
        state.skippedUsers.push({ name, uid, reason: check.reason });
        log(`user ${name} (uid ${uid}) skipped: ${check.reason}; its probes are skipped`);
      } else if (check.kind === 'missing') {
        state.users.push({ name, uid });
        await writeState(state);
        await createUser({ name, uid });
        log(`created user ${name} (uid ${uid})`);
      } else if (sharedWith !== undefined) {
        state.users.push({ name, uid });
        log(`user ${name} (uid ${uid}) shared with lab ${sharedWith.join(', ')}`);
      }
    }
    await writeState(state);
  });
}

/**
 * Removes everything the lab's record lists, and the record: a user only when no other lab holds it.
 * Idempotent; false when there was no lab.
 */
export async function labDown(lab: string, log: Log): Promise<boolean> {
  const state = await readState(lab);
  if (state === null) return false;
  for (const namespace of [...state.namespaces].reverse()) await deleteNamespace(namespace);
  if (state.audit) await rm(state.audit, { recursive: true, force: true });
  const { removed, kept } = await withUsersLock(async () => {
    const held = await heldElsewhere(lab);
    const removed: string[] = [];
    const kept: string[] = [];
    for (const user of [...state.users].reverse()) {
      const holders = held.get(userKey(user));
      if (holders === undefined) {
        await removeUser(user);
        removed.push(user.name);
      } else kept.push(`${user.name} (held by lab ${holders.join(', ')})`);
    }
    await removeState(lab);
    return { removed, kept };
  });
  log(
    `lab ${lab} down: removed ${state.namespaces.length} namespaces${removed.length > 0 ? ` and users ${removed.join(', ')}` : ''}` +
      (kept.length > 0 ? `; kept users ${kept.join(', ')}` : ''),
  );
  return true;
}
