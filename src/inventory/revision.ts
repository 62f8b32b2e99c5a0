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

/** First 16 hex digits of the sha256 of the hosts' canonical JSON; where hosts were written does not count. */
export function inventoryRevision(hosts: readonly Host[]): string {
  const content = hosts.map(({ origin: _origin, ...facts }) => facts);
  return createHash('sha256').update(canonicalJson(content)).digest('hex').slice(0, 16);
}
