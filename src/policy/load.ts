/** Loads policy files (YAML documents and AFW role JSON) into one validated Policy, reporting every error of every file. */
import { createHash } from 'node:crypto';
import { basename, extname } from 'node:path';
import { InputError, error, hasErrors, type Diagnostic, type SourcePos } from '../diagnostics.ts';
import { parseAfwRole } from './afw-import.ts';
import { parsePolicyDocument } from './document.ts';
import { emptyPart, type FilePart } from './file-part.ts';
import { readPolicyFiles, type PolicyFiles } from './files.ts';
import { defaultSettings } from './settings.ts';
import type { Policy } from './types.ts';
import { SourceFile } from './yaml-source.ts';

export interface LoadedPolicy {
  policy: Policy;
  /** Warnings (errors are thrown as an InputError). */
  diagnostics: Diagnostic[];
}

function parseFile(path: string, text: string): FilePart {
  const file = new SourceFile(path, text);
  if (hasErrors(file.diagnostics)) return emptyPart(file);
  return extname(path).toLowerCase() === '.json' ? parseAfwRole(file) : parsePolicyDocument(file);
}

const place = (pos: SourcePos): string => `${pos.file}:${pos.line}:${pos.col}`;

/** Errors that need every file: settings given twice, a rule name used twice. */
function crossFileErrors(parts: readonly FilePart[]): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  let settingsAt: SourcePos | null = null;
  for (const { file, settings } of parts) {
    if (settings === null) continue;
    const pos = file.pos(settings.keyNode);
    if (settingsAt === null) settingsAt = pos;
    else diagnostics.push(error(`"settings" is already given at ${place(settingsAt)}: give settings in one file only`, pos));
  }
  const names = new Map<string, SourcePos>();
  for (const { name, pos } of parts.flatMap((p) => p.declared)) {
    const first = names.get(name);
    if (first === undefined) names.set(name, pos);
    else diagnostics.push(error(`rule name used twice: also at ${place(first)}`, { ...pos, rule: name }));
  }
  return diagnostics;
}

function revision(files: ReadonlyArray<{ path: string; text: string }>): string {
  const hash = createHash('sha256');
  for (const { path, text } of files) hash.update(basename(path)).update('\0').update(text).update('\0');
  return hash.digest('hex').slice(0, 16);
}

/** Parses and validates policy files given as text; throws an InputError carrying all errors of all files. */
export function parsePolicyFiles(files: Array<{ path: string; text: string }>): LoadedPolicy {
  const parts = files.map((f) => parseFile(f.path, f.text));
  const inFileOrder = (p: FilePart): Diagnostic[] => [...p.file.diagnostics].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
  const diagnostics = [...parts.flatMap(inFileOrder), ...crossFileErrors(parts)];
  if (hasErrors(diagnostics)) throw new InputError(diagnostics);
  return {
    policy: {
      settings: parts.find((p) => p.settings !== null)?.settings?.value ?? defaultSettings(),
      rules: parts.flatMap((p) => p.rules),
      raw: parts.flatMap((p) => p.raw),
      files: files.map((f) => f.path),
      revision: revision(files),
    },
    diagnostics,
  };
}

/** Loads policy files and directories; an unreadable path is an InputError naming it. */
export async function loadPolicy(paths: string[]): Promise<LoadedPolicy> {
  return parseReadPolicy(await readPolicyFiles(paths));
}

/** The policy of files read (readPolicyFiles), with the warnings of reading them; throws an InputError like loadPolicy. */
export function parseReadPolicy({ files, diagnostics }: PolicyFiles): LoadedPolicy {
  if (hasErrors(diagnostics)) throw new InputError(diagnostics);
  try {
    const loaded = parsePolicyFiles(files);
    return { policy: loaded.policy, diagnostics: [...diagnostics, ...loaded.diagnostics] };
  } catch (cause) {
    throw cause instanceof InputError ? new InputError([...diagnostics, ...cause.diagnostics]) : cause;
  }
}
