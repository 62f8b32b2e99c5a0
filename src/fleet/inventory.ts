/** One-shot read of a fleet's inventory (for check, plan, compile, push): a snapshot, validated like a file. */
import { InputError, error } from '../diagnostics.ts';
import type { Inventory } from '../inventory/types.ts';
import { connectEtcd, describeEtcdFailure, type EtcdAuthOptions } from './client.ts';
import { fleetKeys } from './keys.ts';
import { readSnapshot } from './snapshot.ts';
import { parseEtcdUrl } from './url.ts';
import { FleetView } from './view.ts';

/** Reads the snapshot; an unreachable etcd is an InputError naming the URL. */
async function readFleetView(source: string, auth: EtcdAuthOptions = {}): Promise<FleetView> {
  const location = parseEtcdUrl(source);
  const keys = fleetKeys(location.prefix);
  const client = connectEtcd(location, auth);
  try {
    const view = new FleetView(keys, source);
    view.reset(await readSnapshot(client, keys));
    return view;
  } catch (cause) {
    if (cause instanceof InputError) throw cause;
    const failure = describeEtcdFailure((cause as Error).message, auth);
    throw new InputError([error(failure.startsWith('etcd: ') ? `cannot read the fleet from ${failure}` : `cannot read the fleet: ${failure}`, { file: source })]);
  } finally {
    client.close();
  }
}

export async function loadFleetInventory(source: string, auth: EtcdAuthOptions = {}): Promise<Inventory> {
  return (await readFleetView(source, auth)).inventory();
}
