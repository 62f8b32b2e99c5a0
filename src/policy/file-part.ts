/** What one policy file contributes, before the files are combined into a Policy. */
import type { Node } from 'yaml';
import type { SourcePos } from '../diagnostics.ts';
import type { RawRule, Rule, Settings } from './types.ts';
import type { SourceFile } from './yaml-source.ts';

export interface FilePart {
  file: SourceFile;
  /** The file's `settings:`, with the node of its key for "given twice" errors. */
  settings: { value: Settings; keyNode: Node } | null;
  rules: Rule[];
  raw: RawRule[];
  /** Every rule and raw rule name declared, valid or not, for the duplicate check across files. */
  declared: Array<{ name: string; pos: SourcePos }>;
}

export function emptyPart(file: SourceFile): FilePart {
  return { file, settings: null, rules: [], raw: [], declared: [] };
}
