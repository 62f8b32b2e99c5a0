/**
 * The iptables backend, all or nothing across ipsets, IPv4 and IPv6. A change reads palisade's part of the
 * kernel (iptables-save of each table, ipset save) into the renderer's structures, journals that snapshot
 * (./journal.ts), then converges: sets filled into staging sets, the rules tested (--test), the sets swapped in,
 * palisade's chains loaded with `iptables-restore --noflush` then `ip6tables-restore --noflush` (jumps from the
 * built-in chains inserted once), staging and unused sets destroyed. On a failure the kernel converges back to
 * the snapshot; after a kill, the next backend call in the namespace does. Element updates journal their undo
 * lines the same way.
 */
import { diffRulesets } from '../compile/diff.ts';
import type { Ruleset } from '../compile/ir.ts';
import { IPTABLES_TABLES_V4, IPTABLES_TABLES_V6, IptablesRuleset, renderIptables, type Ipset, type IptablesFiles, type IptablesTableName } from '../render/iptables.ts';
import type { Backend } from './backend.ts';
import { KernelError } from './error.ts';
import { execTool, runTool, type Target } from './exec.ts';
import { canonicalTables, hasDockerUser, parseSaved, placeForwardJump, planRestore } from './iptables-plan.ts';
import { canonicalSets, destroyScript, membershipScripts, parseSavedSets, stageScript, swapScript } from './ipset.ts';
import { clearJournal, pendingJournal, withBatchFile, writeJournal, type JournalEntry, type Snapshot } from './journal.ts';
import { readIptablesCounters, type ChainCounters } from './counters.ts';
import { containerNotes } from './containers.ts';

interface FamilyTools {
  label: 'v4' | 'v6';
  save: string;
  restore: string;
  tables: readonly IptablesTableName[];
}

const V4: FamilyTools = { label: 'v4', save: 'iptables-save', restore: 'iptables-restore', tables: IPTABLES_TABLES_V4 };
const V6: FamilyTools = { label: 'v6', save: 'ip6tables-save', restore: 'ip6tables-restore', tables: IPTABLES_TABLES_V6 };

/** The three files as one text, with the same headers `palisade compile --format iptables` prints. */
export function iptablesText(files: IptablesFiles): string {
  return `# ==> ipset.restore <==\n${files.ipset}# ==> rules.v4 <==\n${files.v4}# ==> rules.v6 <==\n${files.v6}`;
}

/** What palisade has in the kernel now, and the staging sets an interrupted change left. */
interface KernelView {
  snapshot: Snapshot;
  staging: string[];
  /** Per family, whether Docker's DOCKER-USER chain is there (palisade's forward chain is jumped to from it). */
  dockerUser: { v4: boolean; v6: boolean };
}

const EMPTY = new IptablesRuleset([], [], []);

interface Plan {
  /** The sets to fill and swap in: new ones, and those whose elements differ. */
  sets: Ipset[];
  /** Restore batches, per family; a family whose tables are already as wanted has none. */
  batches: Array<{ family: FamilyTools; batch: string }>;
}

const sameElements = (a: Ipset, b: Ipset | undefined): boolean =>
  b !== undefined && a.family === b.family && a.elements.length === b.elements.length && [...a.elements].sort().join() === [...b.elements].sort().join();

/** Pure: what converging from `have` to `want` stages and restores. */
function planConverge(want: Snapshot, have: Snapshot): Plan {
  const existing = new Map(have.sets.map((s) => [s.name, s]));
  const batches = [V4, V6].flatMap((family) => {
    const same = canonicalTables('', want[family.label]).join('\n') === canonicalTables('', have[family.label]).join('\n');
    const batch = same ? '' : planRestore(family.tables, want[family.label], have[family.label]);
    return batch === '' ? [] : [{ family, batch }];
  });
  return { sets: want.sets.filter((s) => !sameElements(s, existing.get(s.name))), batches };
}

export class IptablesBackend implements Backend {
  readonly name = 'iptables' as const;

  constructor(readonly target: Target) {}

  render(rs: Ruleset): string {
    return iptablesText(renderIptables(rs).toText());
  }

  private run(tool: string, args: readonly string[], input: string | undefined, doing: string): Promise<string> {
    return runTool(this.target, tool, args, input, doing);
  }

  /** Runs a batch from a file (see withBatchFile); nothing when it is empty. */
  private async batch(tool: string, args: readonly string[], script: string, doing: string): Promise<void> {
    if (script !== '') await withBatchFile(this.target, tool, script, (path) => this.run(tool, [...args, path], undefined, doing));
  }

  private ipset(script: string, doing: string): Promise<void> {
    return this.batch('ipset', ['restore', '-file'], script, doing);
  }

  private async tables(family: FamilyTools): Promise<{ tables: Snapshot['v4']; dockerUser: boolean }> {
    const tables = [];
    let dockerUser = false;
    for (const table of family.tables) {
      const saved = await this.run(family.save, ['-t', table], undefined, `${family.save} -t ${table}`);
      if (table === 'filter') dockerUser = hasDockerUser(saved);
      tables.push(...parseSaved(saved));
    }
    return { tables, dockerUser };
  }

  private async view(): Promise<KernelView> {
    const v4 = await this.tables(V4);
    const v6 = await this.tables(V6);
    const { sets, staging } = parseSavedSets(await this.run('ipset', ['save'], undefined, 'ipset save'));
    return { snapshot: { sets, v4: v4.tables, v6: v6.tables }, staging, dockerUser: { v4: v4.dockerUser, v6: v6.dockerUser } };
  }

  /** Sets staged (staging sets, and new real sets created empty) and rules tested; throws without swapping anything. */
  private async prepare(want: Snapshot, have: KernelView): Promise<Plan> {
    const plan = planConverge(want, have.snapshot);
    await this.ipset(destroyScript(have.staging), 'removing staging ipsets left by an interrupted apply');
    await this.ipset(stageScript(plan.sets), 'ipset restore (staging the sets)');
    for (const { family, batch } of plan.batches) await this.batch(family.restore, ['--test', '--noflush'], batch, `${family.restore} --test (validating the rules)`);
    return plan;
  }

  /** Destroys the staging sets and palisade's sets `want` does not use; returns those that could not be, with why. */
  private async sweep(want: Snapshot): Promise<string[]> {
    const wanted = new Set(want.sets.map((s) => s.name));
    const { sets, staging } = parseSavedSets(await this.run('ipset', ['save'], undefined, 'ipset save'));
    const failures: string[] = [];
    for (const name of [...staging, ...sets.map((s) => s.name).filter((n) => !wanted.has(n))]) {
      const result = await execTool(this.target, 'ipset', ['destroy', name]);
      if (result.code !== 0) failures.push(`ipset destroy ${name}: ${result.stderr.trim() || `exit ${result.code}`}`);
    }
    return failures;
  }

  /**
   * Makes palisade's part of the kernel `want`, from `have` (read just before). `strict`: a set that cannot be
   * destroyed fails the change (it is undone); converging back to a snapshot leaves such a set and goes on.
   */
  private async converge(want: Snapshot, have: KernelView, strict: boolean): Promise<void> {
    const plan = await this.prepare(want, have);
    await this.ipset(swapScript(plan.sets), 'ipset swap (replacing the sets)');
    for (const { family, batch } of plan.batches) await this.batch(family.restore, ['--noflush'], batch, `${family.restore} --noflush (loading the rules)`);
    const failures = await this.sweep(want);
    if (strict && failures.length > 0) throw new KernelError('sets no longer used could not be destroyed (does another rule use them?)', failures.join('\n'));
  }

  /** Puts back what an entry journaled; idempotent, so an interrupted undo is done again. */
  private async undo(entry: JournalEntry): Promise<void> {
    if (entry.kind === 'undo-elements') await this.ipset(entry.script, 'ipset restore (undoing interrupted element updates)');
    else await this.converge(entry.snapshot, await this.view(), false);
  }

  /**
   * Finishes what an interrupted change left: the kernel goes back to what its journal recorded. A change under
   * way in another process is refused for a change (`forChange`), and only read around otherwise.
   */
  private async settle(forChange: boolean): Promise<void> {
    const pending = await pendingJournal(this.target);
    if (pending.state === 'live' && forChange) {
      throw new KernelError(`palisade process ${pending.pid} is changing the iptables rules of this network namespace: try again when it is done`, '', true);
    }
    if (pending.state === 'interrupted') {
      await this.undo(pending.entry);
      await clearJournal(this.target);
    }
  }

  /**
   * Runs a change under a journal entry: on failure, the entry is undone before the error is thrown (the error
   * says so if the undo fails too); on success, the journal is cleared.
   */
  private async journaled<T>(entry: JournalEntry, change: () => Promise<T>): Promise<T> {
    await writeJournal(this.target, entry);
    let result: T;
    try {
      result = await change();
    } catch (cause) {
      try {
        await this.undo(entry);
      } catch (again) {
        throw new KernelError(
          `${(cause as Error).message}\n(putting back the previous iptables rules and sets failed too, the next palisade command retries: ${(again as Error).message})`,
        );
      }
      await clearJournal(this.target);
      throw cause instanceof KernelError ? new KernelError(cause.message, '', true) : cause;
    }
    await clearJournal(this.target);
    return result;
  }

  /** Replaces palisade's part of the kernel with `want`, all or nothing. */
  private async replace(rendered: IptablesRuleset): Promise<void> {
    await this.settle(true);
    const have = await this.view();
    const want = placeForwardJump(rendered, have.dockerUser);
    await this.journaled({ kind: 'snapshot', snapshot: have.snapshot }, () => this.converge(want, have, true));
  }

  async check(rs: Ruleset): Promise<void> {
    await this.settle(true);
    const have = await this.view();
    const want = placeForwardJump(renderIptables(rs), have.dockerUser);
    await this.journaled({ kind: 'snapshot', snapshot: have.snapshot }, async () => {
      await this.prepare(want, have);
      /* Nothing was swapped or loaded: the staging sets and the real sets staging created are all to remove. */
      const failures = await this.sweep(have.snapshot);
      if (failures.length > 0) throw new KernelError('staging sets could not be destroyed', failures.join('\n'));
    });
  }

  async load(rs: Ruleset): Promise<string[]> {
    await this.replace(renderIptables(rs));
    return containerNotes(this.target, rs);
  }

  async updateMembership(before: Ruleset, after: Ruleset): Promise<void> {
    const diff = diffRulesets(before, after);
    if (!diff.membershipOnly) throw new KernelError('not a membership-only change');
    const { forward, undo } = membershipScripts(diff);
    await this.settle(true);
    await this.journaled({ kind: 'undo-elements', script: undo }, () => this.ipset(forward, 'ipset restore (updating set elements)'));
  }

  async remove(): Promise<void> {
    await this.replace(EMPTY);
  }

  async listing(): Promise<string | null> {
    await this.settle(false);
    const { snapshot } = await this.view();
    const lines = [...canonicalTables(V4.label, snapshot.v4), ...canonicalTables(V6.label, snapshot.v6), ...canonicalSets(snapshot.sets)];
    return lines.length === 0 ? null : lines.join('\n');
  }

  async counters(): Promise<ChainCounters[]> {
    await this.settle(false);
    return readIptablesCounters(this.target);
  }
}
