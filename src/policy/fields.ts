/** Field values shared by rules, raw rules and settings, read from YAML nodes and reported at their position. */
import { isScalar, isSeq, type Node } from 'yaml';
import type { PortRange } from './types.ts';
import { nameProblem, type NameKind } from '../inventory/names.ts';
import { mergePorts, parsePorts } from './ports.ts';
import { didYouMean } from '../suggest.ts';
import type { Entry, SourceFile } from './yaml-source.ts';

/** A string value; reports anything else (an empty value, a number, a list). */
export function stringField(file: SourceFile, entry: Entry, rule?: string): string | null {
  const { value, key } = entry;
  if (value === null) {
    file.error(entry.keyNode, `"${key}" is empty`, rule);
    return null;
  }
  if (!isScalar(value) || typeof value.value !== 'string') {
    file.error(value, `"${key}" must be a string`, rule);
    return null;
  }
  return value.value;
}

/** One of `choices`, with a did-you-mean for anything else. */
export function choiceField<T extends string>(file: SourceFile, entry: Entry, choices: readonly T[], rule?: string): T | null {
  const text = stringField(file, entry, rule);
  if (text === null) return null;
  if ((choices as readonly string[]).includes(text)) return text as T;
  file.error(entry.value, `"${entry.key}" must be one of ${choices.join(', ')}, not "${text}"${didYouMean(text, choices)}`, rule);
  return null;
}

/** A host, environment, interface or user name, by the rules inventories follow too (inventory/names.ts). */
export function nameField(file: SourceFile, entry: Entry, kind: NameKind, rule?: string): string | null {
  const text = stringField(file, entry, rule);
  if (text === null) return null;
  const problem = nameProblem(kind, text);
  if (problem === null) return text;
  file.error(entry.value, `"${entry.key}": "${text}" is not ${kind === 'environment' || kind === 'interface' ? 'an' : 'a'} ${kind} name: ${problem}`, rule);
  return null;
}

export function booleanField(file: SourceFile, entry: Entry): boolean | null {
  const { value } = entry;
  if (isScalar(value) && typeof value.value === 'boolean') return value.value;
  file.error(value ?? entry.keyNode, `"${entry.key}" must be true or false`);
  return null;
}

/** Ports as `parsePorts` takes them; each list item is checked at its own position. */
export function portsField(file: SourceFile, entry: Entry, rule?: string): PortRange[] | null {
  const { value } = entry;
  if (value === null) {
    file.error(entry.keyNode, `"${entry.key}" is empty`, rule);
    return null;
  }
  const items: Array<Node | null> = isSeq(value) ? value.items.map((item) => file.resolve(item)) : [value];
  if (items.length === 0) {
    file.error(value, `"${entry.key}" is an empty list`, rule);
    return null;
  }
  const ranges: PortRange[] = [];
  let ok = true;
  for (const item of items) {
    try {
      if (!isScalar(item)) throw new Error('a port must be a number, a range like "8000:8100" or a service name');
      ranges.push(...parsePorts(item.value));
    } catch (cause) {
      file.error(item ?? value, `"${entry.key}": ${(cause as Error).message}`, rule);
      ok = false;
    }
  }
  return ok ? mergePorts(ranges) : null;
}
