/**
 * Inventory loading for every front end: the inventory layer's registry (files, `exec:`) with the fleet's
 * etcd:// source registered. Credentials and TLS for a secured cluster come from the PALISADE_ETCD_*
 * environment (src/fleet/client.ts).
 */
import { loadFleetInventory } from '../fleet/inventory.ts';
import { isEtcdUrl } from '../fleet/url.ts';
import { registerInventorySource } from '../inventory/source.ts';

registerInventorySource({ form: 'etcd://host:port/prefix', claims: isEtcdUrl, load: (source) => loadFleetInventory(source) });

export { loadInventory, type LoadOptions } from '../inventory/source.ts';
