/**
 * The iptables backend: sets staged into temporary ipsets and swapped in, then palisade's own chains loaded
 * with `iptables-restore --noflush` / `ip6tables-restore --noflush` (tested first with --test), jumps from the
 * built-in chains inserted once. A failure after the swap swaps the sets back.
 */
import type { Ruleset } from '../compile/ir.ts';
import { renderIptables, type IptablesFiles } from '../render/iptables.ts';
import type { Backend, DropCounter } from './backend.ts';
import { execTool, runTool, type Target } from './exec.ts';
import { canonicalTables, parseTables, planRestore, V4_TABLES, V6_TABLES, type TableSection } from './iptables-plan.ts';
import { PALISADE_SET, TMP_PREFIX, canonicalIpset, destroyScript, membershipScript, parseIpset, stageScript, swapScript, type IpsetDefinition } from './ipset.ts';

interface Family {
  label: 'v4' | 'v6';
  save: string;
  restore: string;
  tables: readonly string[];
}

const FAMILIES: readonly Family[] = [
  { label: 'v4', save: 'iptables-save', restore: 'iptables-restore', tables: V4_TABLES },
  { label: 'v6', save: 'ip6tables-save', restore: 'ip6tables-restore', tables: V6_TABLES },
];

/** The three files as one text, with the same headers `palisade compile --format iptables` prints. */
export function iptablesText(files: IptablesFiles): string {
  return `# ==> ipset.restore <==\n${files.ipset}# ==> rules.v4 <==\n${files.v4}# ==> rules.v6 <==\n${files.v6}`;
}

export class IptablesBackend implements Backend {
  readonly name = 'iptables' as const;

  constructor(readonly target: Target) {}

  render(rs: Ruleset): string {
    return iptablesText(renderIptables(rs));
  }

  private async saved(family: Family): Promise<Map<string, TableSection>> {
    const all = new Map<string, TableSection>();
    for (const table of family.tables) {
      const text = await runTool(this.target, family.save, ['-t', table], undefined, `${family.save} -t ${table}`);
      for (const [name, section] of parseTables(text)) all.set(name, section);
    }
    return all;
  }

  private async setNames(): Promise<string[]> {
    const out = await runTool(this.target, 'ipset', ['list', '-n'], undefined, 'listing ipsets');
    return out.split('\n').filter((n) => PALISADE_SET.test(n));
  }

  private async ipset(script: string, doing: string): Promise<void> {
    if (script !== '') await runTool(this.target, 'ipset', ['restore'], script, doing);
  }

  private async batches(files: IptablesFiles): Promise<Array<{ family: Family; batch: string }>> {
    const wanted = { v4: parseTables(files.v4), v6: parseTables(files.v6) };
    const out: Array<{ family: Family; batch: string }> = [];
    for (const family of FAMILIES) out.push({ family, batch: planRestore(family.tables, wanted[family.label], await this.saved(family)) });
    return out;
  }

  /** Stages the sets and tests the rules; returns what load needs, or undoes the staging and throws. */
  private async stage(rs: Ruleset): Promise<{ sets: IpsetDefinition[]; created: string[]; batches: Array<{ family: Family; batch: string }> }> {
    const files = renderIptables(rs);
    const sets = parseIpset(files.ipset);
    const before = await this.setNames();
    const created = sets.map((s) => s.name).filter((n) => !before.includes(n));
    await this.ipset(destroyScript(before.filter((n) => n.startsWith(TMP_PREFIX))), 'removing stale temporary ipsets');
    try {
      await this.ipset(stageScript(sets), 'ipset restore (staging the sets)');
      const batches = await this.batches(files);
      for (const { family, batch } of batches) {
        if (batch !== '') await runTool(this.target, family.restore, ['--test', '--noflush'], batch, `${family.restore} --test (validating the rules)`);
      }
      return { sets, created, batches };
    } catch (cause) {
      await this.unstage(sets, created);
      throw cause;
    }
  }

  /** Best effort: removes the temporaries and the sets staging created; the original error is what matters. */
  private async unstage(sets: readonly IpsetDefinition[], created: readonly string[]): Promise<void> {
    const present = await this.setNames().catch(() => [] as string[]);
    const names = [...sets.map((_, i) => `${TMP_PREFIX}${i}`), ...created].filter((n) => present.includes(n));
    await this.ipset(destroyScript(names), 'removing staged ipsets').catch(() => undefined);
  }

  async check(rs: Ruleset): Promise<void> {
    const { sets, created } = await this.stage(rs);
    await this.unstage(sets, created);
  }

  async load(rs: Ruleset): Promise<string[]> {
    const { sets, created, batches } = await this.stage(rs);
    await this.ipset(swapScript(sets), 'ipset swap (replacing the sets)');
    try {
      for (const { family, batch } of batches) {
        if (batch !== '') await runTool(this.target, family.restore, ['--noflush'], batch, `${family.restore} --noflush (loading the rules)`);
      }
    } catch (cause) {
      await this.ipset(swapScript(sets), 'ipset swap (restoring the sets)').catch(() => undefined);
      await this.unstage(sets, created);
      throw cause;
    }
    const wanted = new Set(sets.map((s) => s.name));
    const leftover = (await this.setNames()).filter((n) => !wanted.has(n));
    const warnings: string[] = [];
    for (const name of leftover) {
      const result = await execTool(this.target, 'ipset', ['destroy', name]);
      if (result.code !== 0 && !name.startsWith(TMP_PREFIX)) warnings.push(`ipset ${name} is no longer used but could not be destroyed: ${result.stderr.trim()}`);
    }
    return warnings;
  }

  async updateMembership(before: Ruleset, after: Ruleset): Promise<void> {
    const script = membershipScript(parseIpset(renderIptables(before).ipset), parseIpset(renderIptables(after).ipset));
    await this.ipset(script, 'ipset restore (updating set elements)');
  }

  async remove(): Promise<void> {
    for (const family of FAMILIES) {
      const batch = planRestore(family.tables, new Map(), await this.saved(family));
      if (batch !== '') await runTool(this.target, family.restore, ['--noflush'], batch, `${family.restore} --noflush (removing palisade's chains)`);
    }
    await this.ipset(destroyScript(await this.setNames()), "ipset destroy (removing palisade's sets)");
  }

  async listing(): Promise<string | null> {
    const lines: string[] = [];
    for (const family of FAMILIES) lines.push(...canonicalTables(family.label, await this.saved(family)));
    lines.push(...canonicalIpset(await runTool(this.target, 'ipset', ['save'], undefined, 'ipset save')));
    return lines.length === 0 ? null : lines.join('\n');
  }

  async counters(): Promise<DropCounter[]> {
    const byChain = new Map<string, DropCounter>();
    for (const family of FAMILIES) {
      const text = await runTool(this.target, family.save, ['-c', '-t', 'filter'], undefined, `${family.save} -c`);
      for (const match of text.matchAll(/^\[(\d+):(\d+)\] -A (PALISADE-\S+) .*-j DROP$/gm)) {
        const chain = match[3] as string;
        const total = byChain.get(chain) ?? { chain, packets: 0, bytes: 0 };
        total.packets += Number(match[1]);
        total.bytes += Number(match[2]);
        byChain.set(chain, total);
      }
    }
    return [...byChain.values()];
  }
}
