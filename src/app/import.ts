/**
 * `palisade import`: the rules a host runs today (iptables-save, ufw, firewalld files, or `-` for stdin) as a
 * Palisade policy, and with `verify` the comparison of both on the same flows (src/import/verify.ts).
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { UsageError } from '../diagnostics.ts';
import { parseFirewalldZone, readFirewalldZone } from '../import/firewalld.ts';
import { originalLoad, type ReadFile } from '../import/original.ts';
import { verifyInKernel } from '../lab/import-verify.ts';
import { parseIptablesSave } from '../import/iptables-save.ts';
import { IMPORT_TOOLS, MAX_IMPORT_BYTES, mergeImports, type ImportTool, type ImportedPolicy } from '../import/model.ts';
import { parseUfw } from '../import/ufw.ts';
import { compileForVerify, verifyImport, type VerifyReport } from '../import/verify.ts';
import { writeImportedPolicy } from '../import/write.ts';
import { translateRawRules } from '../kernel/iptables-translate.ts';
import { parsePolicyFiles } from '../policy/load.ts';
import { decodeUtf8 } from '../source-text.ts';
import { fileError } from './files.ts';

export interface ImportRequest {
  tool: string;
  files: readonly string[];
  /** `on: name:HOST` on every rule; the host `verify` compiles for (default: this machine's name). */
  host?: string;
  verify?: boolean;
  /** uid → name for `--uid-owner` (default: /etc/passwd). */
  passwd?: string;
  /** Probes done of all, while verifying in the kernel. */
  onProgress?: (done: number, total: number) => void;
}

export interface ImportResult {
  imported: ImportedPolicy;
  text: string;
  report: VerifyReport | null;
  /** Why verify compared the rules as read instead of probing both in the kernel (not root, ufw status input). */
  note: string | null;
}

const STDIN = '-';

async function readInput(path: string): Promise<{ name: string; text: string }> {
  const name = path === STDIN ? '(stdin)' : path;
  let bytes: Buffer;
  try {
    if (path === STDIN) {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_IMPORT_BYTES) throw new UsageError(`standard input is larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MB: not a ruleset this import reads`);
        chunks.push(chunk);
      }
      bytes = Buffer.concat(chunks);
    } else bytes = await readFile(path);
  } catch (cause) {
    if (cause instanceof UsageError) throw cause;
    throw fileError(path, 'read', cause, true);
  }
  return { name, text: decodeUtf8(bytes, name) };
}

/** `name:x:uid:...` lines; an unreadable passwd file only costs the names (uids stay numbers). */
export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name !== undefined && name !== '' && uid !== undefined && /^\d+$/.test(uid) && !users.has(Number(uid))) users.set(Number(uid), name);
  }
  return users;
}

async function localUsers(path: string): Promise<Map<number, string>> {
  try {
    return parsePasswd(await readFile(path, 'utf8'));
  } catch {
    return new Map();
  }
}

function parseOne(tool: ImportTool, name: string, text: string, users: ReadonlyMap<number, string>): ImportedPolicy {
  switch (tool) {
    case 'iptables-save':
      return parseIptablesSave(text, { file: name, users });
    case 'ufw':
      return parseUfw(text, name);
    case 'firewalld':
      return parseFirewalldZone(text, name);
  }
}

export function importTool(name: string): ImportTool {
  if (!(IMPORT_TOOLS as readonly string[]).includes(name)) throw new UsageError(`unknown tool "${name}": import reads ${IMPORT_TOOLS.join(', ')}`);
  return name as ImportTool;
}

export async function importRules(request: ImportRequest): Promise<ImportResult> {
  const tool = importTool(request.tool);
  if (request.files.length === 0) throw new UsageError('give the file(s) to import, or - to read standard input');
  if (request.files.filter((f) => f === STDIN).length > 1) throw new UsageError('standard input (-) can be given once');
  const users = tool === 'iptables-save' ? await localUsers(request.passwd ?? '/etc/passwd') : new Map<number, string>();
  const files: ReadFile[] = [];
  for (const path of request.files) {
    const { name, text } = await readInput(path);
    files.push({ name, text, part: parseOne(tool, name, text, users) });
  }
  const imported = mergeImports(files.map((f) => f.part));
  const host = request.host ?? null;
  const first = writeImportedPolicy(imported, { host });
  /* A raw rule the nft backend cannot load (no iptables-translate form) is written commented out, for the iptables backend. */
  const translations = await translateRawRules(parsePolicyFiles([{ path: '(imported policy)', text: first.text }]).policy.raw);
  const iptablesOnly = new Map<number, string>();
  first.names.forEach((name, i) => {
    const answer = translations.get(name);
    if (answer !== undefined && 'error' in answer) iptablesOnly.set(i, answer.error);
  });
  const { text } = iptablesOnly.size === 0 ? first : writeImportedPolicy(imported, { host, iptablesOnly });
  if (request.verify !== true) return { imported, text, report: null, note: null };
  const { policy } = parsePolicyFiles([{ path: '(imported policy)', text }]);
  const verifyHost = request.host ?? hostname();
  const load = originalLoad(tool, files, tool === 'firewalld' ? files.map((f) => readFirewalldZone(f.text, f.name)) : []);
  const unavailable = process.getuid?.() !== 0 ? 'not root: cannot load the rules into network namespaces' : 'unavailable' in load ? load.unavailable : null;
  if (unavailable !== null || 'unavailable' in load) {
    return { imported, text, report: verifyImport(imported, policy, verifyHost), note: `${unavailable}; compared the rules as read instead` };
  }
  const ruleset = compileForVerify(imported, policy, verifyHost, await translateRawRules(policy.raw));
  const report = await verifyInKernel({ imported, original: load.steps, ruleset, host: verifyHost, ...(request.onProgress === undefined ? {} : { onProgress: request.onProgress }) });
  return { imported, text, report, note: null };
}
