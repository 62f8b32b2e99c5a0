/**
 * Loads an inventory from its source. A small registry: files (the default) and `exec:` commands are built in;
 * other layers register theirs (the application layer registers etcd://, src/app/inventory.ts), so this module
 * knows no fleet.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InputError, error, warning } from '../diagnostics.ts';
import { decodeUtf8 } from '../source-text.ts';
import { parseInventoryDocument } from './document.ts';
import { CommandFailure, runCommand } from './exec.ts';
import type { Inventory } from './types.ts';

export interface LoadOptions {
  /** Where relative file paths and `exec:` commands are resolved and run. */
  cwd: string;
  /** How long an `exec:` command may run; 30 s by default. */
  execTimeoutMs?: number;
}

const DEFAULT_EXEC_TIMEOUT_MS = 30_000;

function fail(message: string, file: string): InputError {
  return new InputError([error(message, { file })]);
}

async function loadExec(source: string, options: LoadOptions): Promise<Inventory> {
  const command = source.slice('exec:'.length).trim();
  if (command === '') throw fail('exec: needs a command that prints the inventory as JSON, e.g. exec:knife search node "*:*" -F json', source);
  try {
    const { stdout, stderrTail } = await runCommand(command, options.cwd, options.execTimeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS);
    const inventory = parseInventoryDocument(stdout, source);
    if (stderrTail !== '') inventory.diagnostics.unshift(warning(`the command wrote to stderr:\n${stderrTail}`, { file: source }));
    return inventory;
  } catch (cause) {
    if (cause instanceof CommandFailure) throw fail(cause.message, source);
    throw cause;
  }
}

/**
 * The file's text. Bytes that are not UTF-8 read as U+FFFD: only a text holding one is read again as bytes, to
 * tell where (a file may hold a U+FFFD of its own); a large inventory is decoded once, with no check of its own.
 */
async function readText(path: string, source: string): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    return text.includes('\uFFFD') ? decodeUtf8(await readFile(path), source) : text;
  } catch (cause) {
    if (cause instanceof InputError) throw cause;
    throw fail(`cannot read inventory: ${cause instanceof Error ? cause.message : String(cause)}`, source);
  }
}

async function loadFile(source: string, options: LoadOptions): Promise<Inventory> {
  return parseInventoryDocument(await readText(resolve(options.cwd, source), source), source);
}

/** One kind of inventory source, recognised by how its name starts (`exec:`, `etcd://`). */
export interface InventorySource {
  /** How it is written, for messages: `exec:COMMAND`, `etcd://host:port/prefix`. */
  form: string;
  claims(source: string): boolean;
  load(source: string, options: LoadOptions): Promise<Inventory>;
}

const sources: InventorySource[] = [{ form: 'exec:COMMAND', claims: (source) => source.startsWith('exec:'), load: loadExec }];

/** Adds a kind of source; registering the same form again replaces it. */
export function registerInventorySource(source: InventorySource): void {
  const at = sources.findIndex((s) => s.form === source.form);
  if (at === -1) sources.push(source);
  else sources[at] = source;
}

/** Loads and validates the inventory named by `source` (a file unless a registered source claims it); throws InputError with every problem found. */
export async function loadInventory(source: string, options: LoadOptions): Promise<Inventory> {
  const claimed = sources.find((s) => s.claims(source));
  if (claimed !== undefined) return claimed.load(source, options);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) throw fail(`unknown inventory source: expected a file, ${sources.map((s) => s.form).join(' or ')}`, source);
  return loadFile(source, options);
}
