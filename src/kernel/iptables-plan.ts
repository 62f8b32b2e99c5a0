/**
 * Pure planning of an `iptables-restore --noflush` batch that makes palisade's chains in one table what the
 * renderer says, given what `iptables-save` shows now: jumps from built-in chains inserted once (never
 * duplicated on re-apply, extra copies deleted), chains no longer wanted flushed and deleted with their jumps.
 */

export const CHAIN_PREFIX = 'PALISADE-';
export const V4_TABLES = ['filter', 'nat', 'mangle', 'raw'] as const;
export const V6_TABLES = ['filter'] as const;

/** One `*table` section of a rendered or saved file, reduced to palisade's part. */
export interface TableSection {
  table: string;
  /** palisade's chains, in order. */
  chains: string[];
  /** `-A PALISADE-X ...` lines, in order. */
  rules: string[];
  /** Jumps `-j PALISADE-X` from built-in chains, with how many times each exists: `BUILTIN PALISADE-X` → count. */
  jumps: Map<string, number>;
}

const jumpKey = (builtin: string, chain: string): string => `${builtin} ${chain}`;

/** Splits an iptables-restore/-save text into palisade's part of each table. */
export function parseTables(text: string): Map<string, TableSection> {
  const tables = new Map<string, TableSection>();
  let current: TableSection | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      current = { table: line.slice(1).trim(), chains: [], rules: [], jumps: new Map() };
      tables.set(current.table, current);
      continue;
    }
    if (current === null) continue;
    const declared = /^:(\S+) /.exec(line);
    if (declared !== null) {
      if (declared[1]?.startsWith(CHAIN_PREFIX)) current.chains.push(declared[1]);
      continue;
    }
    const jump = /^-[AI] (\S+)(?: 1)? -j (PALISADE-\S+)$/.exec(line);
    if (jump !== null && !jump[1]?.startsWith(CHAIN_PREFIX)) {
      const key = jumpKey(jump[1] as string, jump[2] as string);
      current.jumps.set(key, (current.jumps.get(key) ?? 0) + 1);
      continue;
    }
    if (line.startsWith(`-A ${CHAIN_PREFIX}`)) current.rules.push(line);
  }
  return tables;
}

/**
 * The batch for one table, or null when neither the wanted nor the existing state has anything of palisade's.
 * `wanted` null: remove palisade's chains from the table.
 */
export function planTable(table: string, wanted: TableSection | null, existing: TableSection | null): string | null {
  const wantedChains = new Set(wanted?.chains ?? []);
  const stale = (existing?.chains ?? []).filter((c) => !wantedChains.has(c));
  const existingJumps = existing?.jumps ?? new Map<string, number>();
  const wantedJumps = wanted?.jumps ?? new Map<string, number>();
  if (wantedChains.size === 0 && stale.length === 0 && existingJumps.size === 0) return null;
  const lines = [`*${table}`, ...[...wantedChains, ...stale].map((c) => `:${c} - [0:0]`), ...(wanted?.rules ?? [])];
  for (const [key, count] of existingJumps) {
    const [builtin, chain] = key.split(' ') as [string, string];
    const keep = wantedJumps.has(key) ? 1 : 0;
    for (let i = keep; i < count; i += 1) lines.push(`-D ${builtin} -j ${chain}`);
  }
  for (const key of wantedJumps.keys()) {
    const [builtin, chain] = key.split(' ') as [string, string];
    if (!existingJumps.has(key)) lines.push(`-I ${builtin} 1 -j ${chain}`);
  }
  lines.push(...stale.map((c) => `-X ${c}`), 'COMMIT');
  return lines.join('\n');
}

/** The whole batch for one family: every table that has palisade's chains now or wants them. */
export function planRestore(tables: readonly string[], wanted: Map<string, TableSection>, existing: Map<string, TableSection>): string {
  const batches = tables.map((t) => planTable(t, wanted.get(t) ?? null, existing.get(t) ?? null)).filter((b): b is string => b !== null);
  return batches.length === 0 ? '' : `${batches.join('\n')}\n`;
}

/** palisade's part of saved tables as canonical lines (for drift): chains, rules, jumps; no counters. */
export function canonicalTables(prefix: string, saved: Map<string, TableSection>): string[] {
  const lines: string[] = [];
  for (const section of [...saved.values()].sort((a, b) => (a.table < b.table ? -1 : 1))) {
    const jumps = [...section.jumps].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, n]) => `jump ${key} x${n}`);
    for (const line of [...section.chains.map((c) => `chain ${c}`), ...section.rules, ...jumps]) lines.push(`${prefix} ${section.table}: ${line}`);
  }
  return lines;
}
