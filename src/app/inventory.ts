/**
 * Inventory loading for every front end: the inventory layer's registry (files, `exec:`) with the fleet's
 * etcd:// source registered. Credentials and TLS for a secured cluster come from the PALISADE_ETCD_*
 * environment (src/fleet/client.ts).
 */
import { isEtcdUrl } from '../fleet/url.ts';
import { registerInventorySource } from '../inventory/source.ts';

// The etcd client (gRPC, protobuf) loads only when an etcd:// inventory is read: a file inventory never pays for it.
registerInventorySource({ form: 'etcd://host:port/prefix', claims: isEtcdUrl, load: async (source) => (await import('../fleet/inventory.ts')).loadFleetInventory(source) });

export { loadInventory, type LoadOptions } from '../inventory/source.ts';
