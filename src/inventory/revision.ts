/** The inventory revision: a content hash of the hosts, stable across key order and formatting. */
import { createHash } from 'node:crypto';
import type { Host } from './types.ts';

/** JSON with object keys sorted at every level; array order kept. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * First 16 hex digits of the sha256 of the hosts' canonical JSON; where hosts were written does not count.
 * Hashed host by host: the same digest as the whole list's text, without building it (tens of MB at 100k hosts).
 */
export function inventoryRevision(hosts: readonly Host[]): string {
  const hash = createHash('sha256').update('[');
  hosts.forEach(({ origin: _origin, ...facts }, i) => hash.update(i === 0 ? canonicalJson(facts) : `,${canonicalJson(facts)}`));
  return hash.update(']').digest('hex').slice(0, 16);
}
