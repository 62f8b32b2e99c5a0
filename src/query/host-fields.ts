/**
 * What a host offers to queries: (field path, value) pairs. Built-in fields are `name`, `environment`,
 * `roles` (one value per role) and `tags` (one per tag); attributes are flattened to dotted paths, array
 * elements are separate values of the same path, numbers and booleans are their text, nulls are absent.
 * An attribute whose path is a built-in field is not indexed (the built-in wins).
 */
import type { AttributeValue, Host } from '../inventory/types.ts';

export const BUILTIN_FIELDS: ReadonlySet<string> = new Set(['name', 'environment', 'roles', 'tags']);

export type BuiltinField = 'name' | 'environment' | 'roles' | 'tags';

/** A built-in field's values of one host: one value, or a list (roles, tags). */
export function builtinFieldValues(host: Host, field: BuiltinField): string | readonly string[] {
  return field === 'name' ? host.name : field === 'environment' ? host.environment : field === 'roles' ? host.roles : host.tags;
}

/**
 * Calls `visit` for each attribute value of a host, in order: its dotted path, the dotted paths of the
 * attribute and of each object above the value (`paths`, outermost first, ending with `path`), and the value.
 */
export function forEachAttributeValue(attributes: Host['attributes'], visit: (path: string, paths: readonly string[], value: string) => void): void {
  const paths: string[] = [];
  const walk = (path: string, value: AttributeValue): void => {
    if (value === null) return;
    if (Array.isArray(value)) {
      for (const element of value) walk(path, element);
    } else if (typeof value === 'object') {
      for (const key of Object.keys(value)) descend(path === '' ? key : `${path}.${key}`, value[key] as AttributeValue);
    } else if (!(paths.length === 1 && BUILTIN_FIELDS.has(path))) {
      visit(path, paths, String(value));
    }
  };
  const descend = (path: string, value: AttributeValue): void => {
    paths.push(path);
    walk(path, value);
    paths.pop();
  };
  for (const key of Object.keys(attributes)) descend(key, attributes[key] as AttributeValue);
}
