/** A policy document (YAML): `settings`, `rules` and `raw`. */
import { checkRuleName } from './rule-name.ts';
import { emptyPart, type FilePart } from './file-part.ts';
import { parseRawRule } from './raw.ts';
import { parseRule } from './rule.ts';
import { parseSettings } from './settings.ts';
import type { Entry, SourceFile } from './yaml-source.ts';

/** Calls `each` for every valid-named entry of a `rules:` or `raw:` mapping, recording the names declared. */
function namedEntries(file: SourceFile, part: FilePart, section: Entry, each: (name: string, entry: Entry) => void): void {
  if (section.value === null) return;
  for (const entry of file.entries(section.value, `"${section.key}"`) ?? []) {
    part.declared.push({ name: entry.key, pos: file.pos(entry.keyNode) });
    if (checkRuleName(file, entry.key, entry.keyNode)) each(entry.key, entry);
  }
}

export function parsePolicyDocument(file: SourceFile): FilePart {
  const part = emptyPart(file);
  if (file.root === null) return part;
  for (const section of file.entries(file.root, 'a policy file', { known: ['settings', 'rules', 'raw'], noun: 'top-level key' }) ?? []) {
    if (section.key === 'settings') {
      part.settings = { value: parseSettings(file, section.value), keyNode: section.keyNode };
    } else if (section.key === 'rules') {
      namedEntries(file, part, section, (name, entry) => {
        const rule = parseRule(file, name, entry.keyNode, entry.value);
        if (rule !== null) part.rules.push(rule);
      });
    } else {
      namedEntries(file, part, section, (name, entry) => {
        const raw = parseRawRule(file, name, entry.keyNode, entry.value);
        if (raw !== null) part.raw.push(raw);
      });
    }
  }
  return part;
}
