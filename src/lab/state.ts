/**
 * The lab's record of what it created, in /run/palisade-lab/<lab>.json. Every creation step is written
 * here before it is carried out, so `lab down` can undo a lab that crashed half-way, and nothing else.
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../atomic-file.ts';
import { OperationError } from '../diagnostics.ts';

export const STATE_DIR = '/run/palisade-lab';

/** Lab names go into namespace names: short and plain. */
export const LAB_NAME = /^[a-z0-9][a-z0-9-]{0,11}$/;

export interface LabHost {
  host: string;
  namespace: string;
  /** The bridged interface in the host's namespace (the inventory's `lan`). */
  lan: string;
  /** The veth end on the bridge, in the bridge namespace. */
  port: string;
  /** The host's addresses (every interface's), to name it beside them in flows. */
  addresses: string[];
}

export interface CreatedUser {
  name: string;
  uid: number;
}

export interface SkippedUser {
  name: string;
  uid: number;
  reason: string;
}

export interface LabState {
  lab: string;
  /** The inventory the lab was built from. */
  inventory: string;
  bridgeNamespace: string;
  hosts: LabHost[];
  /** Namespaces this lab created (or was about to create). */
  namespaces: string[];
  /**
   * Local users the lab needs that labs created (or were about to create): made by this lab, or by another
   * lab that still had them when this one came up. Accounts that existed before any lab are not here.
   */
  users: CreatedUser[];
  /** Inventory users the lab could not provide: their probes are skipped. */
  skippedUsers: SkippedUser[];
  /** The backend of the last `lab apply`, null before one. */
  backend: 'nft' | 'iptables' | null;
  /** Policy and inventory revisions the loaded rulesets were compiled from; null before an apply. */
  revision: string | null;
  /** The directory of `lab audit`'s ulogd2 configurations and records, null before one. */
  audit: string | null;
  /** Containers put behind hosts by `lab container` (src/lab/containers.ts); absent before one. */
  containers?: LabContainer[];
}

/** A container (or pod) namespace behind a lab host's bridge, with the runtime's DNAT for its published ports. */
export interface LabContainer {
  host: string;
  runtime: 'docker' | 'nodeport';
  namespace: string;
  /** The container's address (no prefix). */
  address: string;
  ports: Array<{ protocol: 'tcp' | 'udp'; host: number; container: number }>;
}

/** A lab failure the user can act on (the CLI prints it and exits 1). */
export class LabError extends OperationError {
  override readonly name = 'LabError';
}

export function checkLabName(lab: string): string {
  if (!LAB_NAME.test(lab)) throw new LabError(`lab name "${lab}" must be 1-12 of a-z, 0-9 and -, starting with a letter or digit`);
  return lab;
}

export const statePath = (lab: string): string => join(STATE_DIR, `${checkLabName(lab)}.json`);

export async function readState(lab: string): Promise<LabState | null> {
  try {
    return JSON.parse(await readFile(statePath(lab), 'utf8')) as LabState;
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw cause;
  }
}

/** Atomic: a crash leaves the previous record or the new one, never half a file. */
export async function writeState(state: LabState): Promise<void> {
  await mkdir(STATE_DIR, { recursive: true, mode: 0o700 });
  await writeFileAtomic(statePath(state.lab), `${JSON.stringify(state, null, 2)}\n`);
}

/** The records of every lab that is up (or crashed half-way), except `lab`. */
export async function otherLabs(lab: string): Promise<LabState[]> {
  const names = await readdir(STATE_DIR).catch((cause: NodeJS.ErrnoException) => {
    if (cause.code === 'ENOENT') return [];
    throw cause;
  });
  const labs = names.flatMap((name) => {
    const other = name.endsWith('.json') ? name.slice(0, -'.json'.length) : '';
    return LAB_NAME.test(other) && other !== lab ? [other] : [];
  });
  const states = await Promise.all(labs.map(readState));
  return states.filter((s): s is LabState => s !== null);
}

export async function removeState(lab: string): Promise<void> {
  await rm(statePath(lab), { force: true });
}
