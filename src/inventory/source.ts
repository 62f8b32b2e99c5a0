/** Loads an inventory from its source: a file, an `exec:` command printing JSON, or etcd (fleet mode). */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InputError, error, warning } from '../diagnostics.ts';
import { parseInventoryDocument } from './document.ts';
import { CommandFailure, runCommand } from './exec.ts';
import { loadFleetInventory } from '../fleet/inventory.ts';
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
    return { ...inventory, source };
  } catch (cause) {
    if (cause instanceof CommandFailure) throw fail(cause.message, source);
    throw cause;
  }
}

async function loadFile(source: string, options: LoadOptions): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(resolve(options.cwd, source), 'utf8');
  } catch (cause) {
    throw fail(`cannot read inventory: ${cause instanceof Error ? cause.message : String(cause)}`, source);
  }
  return { ...parseInventoryDocument(text, source), source };
}

/** Loads and validates the inventory named by `source`; throws InputError with every problem found. */
export async function loadInventory(source: string, options: LoadOptions): Promise<Inventory> {
  if (source.startsWith('exec:')) return loadExec(source, options);
  /* Credentials and TLS for a secured cluster come from the PALISADE_ETCD_* environment (src/fleet/client.ts). */
  if (source.startsWith('etcd://')) return loadFleetInventory(source);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) throw fail('unknown inventory source: expected a file, exec:COMMAND or etcd://host:port/prefix', source);
  return loadFile(source, options);
}
