/** What every fleet command needs first: the etcd:// location (flag or palisade.yaml) and a client for it. */
import type { Etcd3 } from 'etcd3';
import { InputError, error } from '../../diagnostics.ts';
import { connectEtcd, type EtcdAuthOptions } from '../../fleet/client.ts';
import { fleetKeys, type Keys } from '../../fleet/keys.ts';
import { isEtcdUrl, parseEtcdUrl, type EtcdLocation } from '../../fleet/url.ts';
import { loadConfig, type ConfigOverrides } from '../../app/config.ts';
import { UsageError } from '../../diagnostics.ts';

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
  const url = options.inventory ?? (await loadConfig({ ...(options.config === undefined ? {} : { config: options.config }) } as ConfigOverrides).catch(() => null))?.inventory;
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
    throw new InputError([error(`etcd: ${(cause as Error).message}`, { file: fleet.url })]);
  } finally {
    fleet.client.close();
  }
}
