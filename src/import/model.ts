/**
 * What `palisade import` reads from another tool (iptables-save, ufw, firewalld), before it is written as a
 * policy: the rules of the host's input and output paths in the tool's order, each either expressible as a
 * Palisade rule or kept as an iptables raw rule, and every line not imported with the reason.
 */
import { InputError, error } from '../diagnostics.ts';
import type { PortRange } from '../policy/types.ts';

export type ImportTool = 'iptables-save' | 'ufw' | 'firewalld';
export const IMPORT_TOOLS: readonly ImportTool[] = ['iptables-save', 'ufw', 'firewalld'];

export interface Place {
  file: string;
  line: number;
}

export type ImportedProtocol = 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'all';

/** One rule of the tool, with matches Palisade has. `peers` empty: any address (of `family`). */
export interface ImportedRule {
  kind: 'rule';
  /** From the tool's comment when it has one. */
  name: string | null;
  direction: 'in' | 'out';
  action: 'accept' | 'drop' | 'reject' | 'log';
  protocol: ImportedProtocol;
  /** `both`: IPv4 and IPv6 (only with `peers` empty). */
  family: 4 | 6 | 'both';
  /** Canonical CIDRs (`10.0.0.0/8`, `192.0.2.7/32`); empty: every address of `family`. */
  peers: string[];
  dport: PortRange[] | null;
  sport: PortRange[] | null;
  /** Outbound: the socket's owner. `name` from the host's users when known. */
  user: { uid: number; name: string } | null;
  interface: string | null;
  icmpType: string | null;
  /** New connections beyond it fall through to the following rules (iptables' `-m limit`: per rule). */
  limit: { rate: number; unit: 'second' | 'minute' | 'hour' | 'day'; burst: number; per: 'rule' | 'source' } | null;
  place: Place;
}

/**
 * A rule Palisade's language cannot say: kept as iptables text in palisade's chain. `known` holds what of its
 * matches the importer understood, so that `import --verify` can tell which flows it may decide.
 */
export interface ImportedRaw {
  kind: 'raw';
  direction: 'in' | 'out';
  /** The rule as `-A INPUT ...` or `-A OUTPUT ...`. */
  rule: string;
  reason: string;
  /** False when its conntrack state match excludes NEW (`--ctstate INVALID`): it never decides a new flow. */
  decidesNew: boolean;
  known: Omit<ImportedRule, 'kind' | 'name' | 'action' | 'place' | 'limit'>;
  place: Place;
}

export type ImportedEntry = ImportedRule | ImportedRaw;

/** A line the import leaves out, and why (another table, a forward rule, palisade's own base rules...). */
export interface ImportNote {
  place: Place;
  message: string;
  /** Covered by palisade's base rules (loopback, established): not a loss. */
  covered: boolean;
}

export interface ImportedPolicy {
  tool: ImportTool;
  files: string[];
  /** What falls off the end of the input and output paths. */
  input: 'accept' | 'drop' | 'reject';
  output: 'accept' | 'drop' | 'reject';
  /** In the tool's evaluation order (first match decides, `log` goes on). */
  entries: ImportedEntry[];
  notes: ImportNote[];
}

/** Limits for hostile input: a ruleset file of any tool is far below these. */
export const MAX_IMPORT_BYTES = 16 * 1024 * 1024;
export const MAX_LINE_CHARS = 65536;

export function importError(message: string, place: Place): InputError {
  return new InputError([error(message, { file: place.file, line: place.line })]);
}

/** Text read from a file, with the size guard every parser applies first. */
export function checkSize(text: string, file: string): void {
  if (text.length > MAX_IMPORT_BYTES) throw importError(`larger than ${MAX_IMPORT_BYTES / 1024 / 1024} MB: not a ruleset this import reads`, { file, line: 1 });
}

/** Several files of one tool (iptables-save and ip6tables-save, ufw's user.rules and user6.rules): one ruleset. */
export function mergeImports(parts: readonly ImportedPolicy[]): ImportedPolicy {
  const [first, ...rest] = parts;
  if (first === undefined) throw new Error('mergeImports needs at least one part');
  const notes = [...first.notes];
  for (const part of rest) {
    for (const path of ['input', 'output'] as const) {
      if (part[path] !== first[path]) notes.push({ place: { file: part.files[0] ?? '', line: 1 }, message: `${path} ends in ${part[path]} here but in ${first[path]} in ${first.files[0]}: the first file's ending is kept`, covered: false });
    }
    notes.push(...part.notes);
  }
  return { ...first, files: parts.flatMap((p) => p.files), entries: parts.flatMap((p) => p.entries), notes };
}

export const anyAddress = (family: 4 | 6 | 'both'): string[] => (family === 4 ? ['0.0.0.0/0'] : family === 6 ? ['::/0'] : ['0.0.0.0/0', '::/0']);
