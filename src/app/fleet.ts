/** What every fleet operation needs first: the etcd:// location (flag or palisade.yaml), a client for it, and its view. */
import type { Etcd3 } from 'etcd3';
import { InputError, UsageError, error } from '../diagnostics.ts';
import { connectEtcd, describeEtcdFailure, type EtcdAuthOptions } from '../fleet/client.ts';
import { fleetKeys, type Keys } from '../fleet/keys.ts';
import { readSnapshot } from '../fleet/snapshot.ts';
import { isEtcdUrl, parseEtcdUrl, type EtcdLocation } from '../fleet/url.ts';
import { FleetView } from '../fleet/view.ts';
import { loadConfig } from './config.ts';

export interface FleetOptions extends EtcdAuthOptions {
  inventory?: string;
  config?: string;
}

export interface Fleet {
  url: string;
  location: EtcdLocation;
  keys: Keys;
  client: Etcd3;
}

/** The etcd:// URL from --inventory, else from palisade.yaml. */
export async function fleetUrl(options: FleetOptions): Promise<string> {
  const url = options.inventory ?? (await loadConfig(options.config === undefined ? {} : { config: options.config }).catch(() => null))?.inventory;
  if (url === undefined || !isEtcdUrl(url)) throw new UsageError('this command needs a fleet: pass --inventory etcd://HOST:PORT[,HOST:PORT...]/PREFIX');
  return url;
}

export async function openFleet(options: FleetOptions): Promise<Fleet> {
  const url = await fleetUrl(options);
  const location = parseEtcdUrl(url);
  return { url, location, keys: fleetKeys(location.prefix), client: connectEtcd(location, options) };
}

/** Runs fn with an open fleet client, closing it however fn ends; etcd's errors (unreachable, permission denied) exit 1. */
export async function withFleet<T>(options: FleetOptions, fn: (fleet: Fleet) => Promise<T>): Promise<T> {
  const fleet = await openFleet(options);
  try {
    return await fn(fleet);
  } catch (cause) {
    if (cause instanceof InputError || cause instanceof UsageError) throw cause;
    throw new InputError([error(describeEtcdFailure((cause as Error).message, options), { file: fleet.url })]);
  } finally {
    fleet.client.close();
  }
}

/** The fleet as one reader sees it now: validated hosts and the pushed policy, from one snapshot. */
export async function readFleetView({ client, keys, url }: Fleet): Promise<FleetView> {
  const view = new FleetView(keys, url);
  view.reset(await readSnapshot(client, keys));
  return view;
}
