/**
 * The user's own files that commands read or write (compile --out, observe --out, suggest --out, plan
 * --against): a failure is an OperationError of kind 'file' naming the path and the reason, never a trace.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { makeDirectory, writeFileAtomic } from '../atomic-file.ts';
import { OperationError, systemReason } from '../diagnostics.ts';

/** `cannot <doing> <path>: <reason> (<code>)`. */
export function fileError(path: string, doing: string, cause: unknown, unchanged: boolean): OperationError {
  return new OperationError(`cannot ${doing} ${path}: ${systemReason(cause)}`, { kind: 'file', unchanged, cause });
}

/** Whether path is a directory; a path that cannot be read is a file error. */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (cause) {
    throw fileError(path, 'read', cause, true);
  }
}

/** Replaces the file whole (a failure leaves it as it was). */
export async function writeUserFile(path: string, text: string): Promise<void> {
  try {
    await writeFileAtomic(path, text, 0o644);
  } catch (cause) {
    throw fileError(path, 'write', cause, true);
  }
}

/** Creates dir if needed and writes the files into it, in order; "nothing was changed" only if none was written. */
export async function writeUserFiles(dir: string, files: ReadonlyArray<{ name: string; text: string }>): Promise<void> {
  try {
    await makeDirectory(dir);
  } catch (cause) {
    throw fileError(dir, 'create the directory', cause, true);
  }
  for (const [i, { name, text }] of files.entries()) {
    try {
      await writeFileAtomic(join(dir, name), text, 0o644);
    } catch (cause) {
      throw fileError(join(dir, name), 'write', cause, i === 0);
    }
  }
}
