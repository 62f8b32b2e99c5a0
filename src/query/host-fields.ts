/**
 * What a host offers to queries: (field path, value) pairs. Built-in fields are `name`, `environment`,
 * `roles` (one value per role) and `tags` (one per tag); attributes are flattened to dotted paths, array
 * elements are separate values of the same path, numbers and booleans are their text, nulls are absent.
 * An attribute whose path is a built-in field is not indexed (the built-in wins).
 */
import type { AttributeValue, Host } from '../inventory/types.ts';

export const BUILTIN_FIELDS: ReadonlySet<string> = new Set(['name', 'environment', 'roles', 'tags']);

export interface FieldValue {
  /** Keys from the attributes' root; a built-in field is one key. */
  path: string[];
  value: string;
}

function* attributeValues(path: string[], value: AttributeValue): Generator<FieldValue> {
  if (value === null) return;
  if (Array.isArray(value)) {
    for (const element of value) yield* attributeValues(path, element);
  } else if (typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) yield* attributeValues([...path, key], child);
  } else {
    yield { path, value: String(value) };
  }
}

export function* hostFieldValues(host: Host): Generator<FieldValue> {
  yield { path: ['name'], value: host.name };
  yield { path: ['environment'], value: host.environment };
  for (const role of host.roles) yield { path: ['roles'], value: role };
  for (const tag of host.tags) yield { path: ['tags'], value: tag };
  for (const entry of attributeValues([], host.attributes)) {
    if (!BUILTIN_FIELDS.has(entry.path.join('.'))) yield entry;
  }
}
