/** A rule's `source` / `destination` entries, each classified as an address, a query or a host name. */
import { isScalar, isSeq, type Node } from 'yaml';
import type { Endpoint } from './types.ts';
import { parseCidr } from './address.ts';
import { parseQueryAt } from './query-text.ts';
import type { SourceFile } from './yaml-source.ts';

export interface TextEntry {
  node: Node;
  text: string;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** A string or list of strings as entries with their nodes; reports empty lists, empty and non-string entries. */
export function textEntries(file: SourceFile, keyNode: Node, value: Node | null, field: string, rule?: string): TextEntry[] {
  if (value === null) {
    file.error(keyNode, `"${field}" is empty`, rule);
    return [];
  }
  const items = isSeq(value) ? value.items.map((item) => file.resolve(item)) : [value];
  if (items.length === 0) file.error(value, `"${field}" is an empty list`, rule);
  const entries: TextEntry[] = [];
  for (const item of items) {
    if (item === null) {
      file.error(value, `empty entry in "${field}"`, rule);
    } else if (!isScalar(item) || (typeof item.value !== 'string' && typeof item.value !== 'number')) {
      file.error(item, `each "${field}" entry must be an address, a host name or a query string`, rule);
    } else {
      const text = typeof item.value === 'string' ? item.value.trim() : (item.source ?? String(item.value));
      if (text === '') file.error(item, `empty entry in "${field}"`, rule);
      else entries.push({ node: item, text });
    }
  }
  return entries;
}

function classify(file: SourceFile, entry: TextEntry, field: string, rule: string): Endpoint | null {
  const { node, text } = entry;
  const address = parseCidr(text);
  if (address !== null) {
    if (address.ok) return { kind: 'cidr', text, family: address.family, cidr: address.cidr };
    file.error(node, address.message, rule);
    return null;
  }
  if (/[:(*\s]/.test(text) || text === 'SAMETAG') {
    const query = parseQueryAt(file, node, text, rule);
    return query === null ? null : { kind: 'query', text, query };
  }
  if (HOSTNAME.test(text)) return { kind: 'hostname', text, name: text };
  file.error(node, `"${text}" in "${field}" is not an address, a host name or a query (a query is field:value, as in name:${text})`, rule);
  return null;
}

/** The endpoints of a `source` or `destination` value; null when any entry is invalid (each one reported). */
export function parseEndpoints(file: SourceFile, keyNode: Node, value: Node | null, field: string, rule: string): Endpoint[] | null {
  const before = file.diagnostics.length;
  const endpoints = textEntries(file, keyNode, value, field, rule).map((entry) => classify(file, entry, field, rule));
  const valid = endpoints.filter((e): e is Endpoint => e !== null);
  return file.diagnostics.length === before && valid.length > 0 ? valid : null;
}
