/**
 * Pure planning for the iptables backend, on the renderer's structures: palisade's part of what
 * `iptables-save` shows read into the same `IptablesTable`s, and the `iptables-restore --noflush` batch that
 * turns what the kernel has into what is wanted: jumps from built-in chains inserted once (never duplicated on
 * re-apply, extra copies deleted), chains no longer wanted flushed and deleted with their jumps.
 */
import { DOCKER_USER_CHAIN, isIptablesOwnChain } from '../layout.ts';
import { IptablesRuleset, ruleLine, type IptablesJump, type IptablesTable, type IptablesTableName } from '../render/iptables.ts';

/** palisade's part of `iptables-save -t <table>` output (one or more tables), in the order saved. */
export function parseSaved(text: string): IptablesTable[] {
  const tables: IptablesTable[] = [];
  let current: IptablesTable | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      current = { name: line.slice(1).trim() as IptablesTableName, chains: [], rules: [], jumps: [] };
      tables.push(current);
      continue;
    }
    if (current === null) continue;
    const declared = /^:(\S+) /.exec(line);
    if (declared !== null) {
      if (isIptablesOwnChain(declared[1] as string)) current.chains.push(declared[1] as string);
      continue;
    }
    const jump = /^-[AI] (\S+)(?: 1)? -j (\S+)$/.exec(line);
    if (jump !== null && !isIptablesOwnChain(jump[1] as string) && isIptablesOwnChain(jump[2] as string)) {
      current.jumps.push({ from: jump[1] as string, to: jump[2] as string });
      continue;
    }
    const rule = /^-A (\S+) (.*)$/.exec(line);
    if (rule !== null && isIptablesOwnChain(rule[1] as string)) current.rules.push({ chain: rule[1] as string, spec: rule[2] as string });
  }
  return tables;
}

const jumpKey = (j: IptablesJump): string => `${j.from} ${j.to}`;

function counted(jumps: readonly IptablesJump[]): Map<string, { jump: IptablesJump; count: number }> {
  const out = new Map<string, { jump: IptablesJump; count: number }>();
  for (const jump of jumps) {
    const entry = out.get(jumpKey(jump));
    if (entry === undefined) out.set(jumpKey(jump), { jump, count: 1 });
    else entry.count += 1;
  }
  return out;
}

/**
 * The batch for one table, or null when neither the wanted nor the existing state has anything of palisade's.
 * `wanted` null: remove palisade's chains from the table.
 */
export function planTable(name: IptablesTableName, wanted: IptablesTable | null, existing: IptablesTable | null): string | null {
  const wantedChains = new Set(wanted?.chains ?? []);
  const stale = (existing?.chains ?? []).filter((c) => !wantedChains.has(c));
  const existingJumps = counted(existing?.jumps ?? []);
  const wantedJumps = counted(wanted?.jumps ?? []);
  if (wantedChains.size === 0 && stale.length === 0 && existingJumps.size === 0) return null;
  const lines = [`*${name}`, ...[...wantedChains, ...stale].map((c) => `:${c} - [0:0]`), ...(wanted?.rules ?? []).map(ruleLine)];
  for (const [key, { jump, count }] of existingJumps) {
    for (let i = wantedJumps.has(key) ? 1 : 0; i < count; i += 1) lines.push(`-D ${jump.from} -j ${jump.to}`);
  }
  for (const [key, { jump }] of wantedJumps) {
    if (!existingJumps.has(key)) lines.push(`-I ${jump.from} 1 -j ${jump.to}`);
  }
  lines.push(...stale.map((c) => `-X ${c}`), 'COMMIT');
  return lines.join('\n');
}

/** The whole batch for one family: every table that has palisade's chains now or wants them; '' when none. */
export function planRestore(tables: readonly IptablesTableName[], wanted: readonly IptablesTable[], existing: readonly IptablesTable[]): string {
  const find = (list: readonly IptablesTable[], name: string): IptablesTable | null => list.find((t) => t.name === name) ?? null;
  const batches = tables.map((t) => planTable(t, find(wanted, t), find(existing, t))).filter((b): b is string => b !== null);
  return batches.length === 0 ? '' : `${batches.join('\n')}\n`;
}

/** palisade's part of saved tables as canonical lines (for drift): chains, rules, jumps; no counters. */
export function canonicalTables(prefix: string, saved: readonly IptablesTable[]): string[] {
  const lines: string[] = [];
  for (const table of [...saved].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const jumps = [...counted(table.jumps)].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, { count }]) => `jump ${key} x${count}`);
    for (const line of [...table.chains.map((c) => `chain ${c}`), ...table.rules.map(ruleLine), ...jumps]) lines.push(`${prefix} ${table.name}: ${line}`);
  }
  return lines;
}

/** Whether `iptables-save -t filter` output declares Docker's DOCKER-USER chain. */
export const hasDockerUser = (savedFilter: string): boolean => savedFilter.split('\n').some((line) => line.startsWith(`:${DOCKER_USER_CHAIN} `));

/**
 * Where palisade's forward chain is jumped to from, per family: Docker's DOCKER-USER when the kernel has it (the
 * hook Docker documents for an administrator's rules, which Docker keeps first in FORWARD), else FORWARD.
 * Docker's own chains are never edited: the jump is palisade's, removed with palisade's chains.
 */
export function placeForwardJump(ruleset: IptablesRuleset, dockerUser: { v4: boolean; v6: boolean }): IptablesRuleset {
  const place = (tables: readonly IptablesTable[], docker: boolean): IptablesTable[] =>
    !docker
      ? [...tables]
      : tables.map((t) => (t.name !== 'filter' ? t : { ...t, jumps: t.jumps.map((j) => (j.from === 'FORWARD' ? { ...j, from: DOCKER_USER_CHAIN } : j)) }));
  return new IptablesRuleset(ruleset.sets, place(ruleset.v4, dockerUser.v4), place(ruleset.v6, dockerUser.v6));
}
