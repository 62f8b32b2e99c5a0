/**
 * Reading a policy: its files, and the policy files of its directories (the one home of policy-directory
 * expansion). Apart from parsing them (src/policy/load.ts), which a policy kept from the last apply skips
 * (src/app/policy-cache.ts).
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { InputError, error, warning, type Diagnostic } from '../diagnostics.ts';
import { decodeUtf8 } from '../source-text.ts';

const POLICY_EXTENSIONS = ['.yaml', '.yml', '.json'];

/** The policy files a path stands for: itself, or a directory's .yaml, .yml and .json files sorted by name. */
async function expand(path: string, diagnostics: Diagnostic[]): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [path];
  const names = (await readdir(path, { withFileTypes: true }))
    .filter((e) => e.isFile() && POLICY_EXTENSIONS.includes(extname(e.name).toLowerCase()))
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (names.length === 0) diagnostics.push(warning('no .yaml, .yml or .json policy files in this directory', { file: path }));
  return names.map((name) => join(path, name));
}

export interface PolicyFiles {
  files: Array<{ path: string; text: string }>;
  /** Errors for unreadable paths, warnings for directories without policy files. */
  diagnostics: Diagnostic[];
}

/** Reads policy files and directories; an unreadable path is an error naming it. */
export async function readPolicyFiles(paths: readonly string[]): Promise<PolicyFiles> {
  const diagnostics: Diagnostic[] = [];
  const files: Array<{ path: string; text: string }> = [];
  for (const path of paths) {
    try {
      for (const file of await expand(path, diagnostics)) {
        const bytes = await readFile(file);
        try {
          files.push({ path: file, text: decodeUtf8(bytes, file) });
        } catch (invalid) {
          if (!(invalid instanceof InputError)) throw invalid;
          diagnostics.push(...invalid.diagnostics);
        }
      }
    } catch (cause) {
      diagnostics.push(error(`cannot read the policy: ${(cause as Error).message}`, { file: path }));
    }
  }
  return { files, diagnostics };
}
