/**
 * ipset for the iptables backend, pure: palisade's sets read from `ipset save`, sets filled into staging sets
 * and swapped in (each swap atomic), and element updates as `add`/`del` lines for `ipset restore`.
 */
import type { RulesetDiff } from '../compile/diff.ts';
import { isPalisadeSet, isStagingSet, stagingSetName } from '../layout.ts';
import { ipsetCreateOptions, ipsetElements, type Ipset } from '../render/iptables.ts';

export interface SavedSets {
  /** palisade's sets (staging sets aside), with their elements. */
  sets: Ipset[];
  /** Staging sets present: left by an interrupted apply. */
  staging: string[];
}

/** palisade's sets in `ipset save` output. */
export function parseSavedSets(saved: string): SavedSets {
  const sets = new Map<string, Ipset>();
  const staging: string[] = [];
  for (const line of saved.split('\n')) {
    const [verb, name, ...rest] = line.split(' ');
    if (name === undefined || !isPalisadeSet(name)) continue;
    if (verb === 'create') {
      if (isStagingSet(name)) staging.push(name);
      else sets.set(name, { name, family: rest.includes('inet6') ? 6 : 4, elements: [] });
    } else if (verb === 'add') sets.get(name)?.elements.push(rest.join(' '));
  }
  return { sets: [...sets.values()], staging };
}

const script = (lines: readonly string[]): string => (lines.length === 0 ? '' : `${lines.join('\n')}\n`);

/** Fills a staging set per set and makes sure each real set exists (empty when new), so rules can be tested. */
export function stageScript(sets: readonly Ipset[]): string {
  return script(
    sets.flatMap((set, i) => {
      const options = ipsetCreateOptions(set.family);
      const tmp = stagingSetName(i);
      return [`create ${tmp} ${options}`, ...set.elements.map((e) => `add ${tmp} ${e}`), `create ${set.name} ${options} -exist`];
    }),
  );
}

/** Swaps each staged set with its real one: the real sets get the staged elements, the staging sets the old ones. */
export function swapScript(sets: readonly Ipset[]): string {
  return script(sets.map((set, i) => `swap ${stagingSetName(i)} ${set.name}`));
}

export function destroyScript(names: readonly string[]): string {
  return script(names.map((n) => `destroy ${n}`));
}

/**
 * A membership-only change (RulesetDiff of the IR) as `ipset restore` lines, deletions then additions, and
 * the lines that undo it. Every line carries -exist, so each script can be run again after an interruption.
 */
export function membershipScripts(diff: RulesetDiff): { forward: string; undo: string } {
  const lines = (verb: 'add' | 'del', changes: Record<string, string[]>): string[] =>
    Object.keys(changes)
      .sort()
      .flatMap((name) => (changes[name] ?? []).flatMap(ipsetElements).map((e) => `${verb} ${name} ${e} -exist`));
  return {
    forward: script([...lines('del', diff.elementsRemoved), ...lines('add', diff.elementsAdded)]),
    undo: script([...lines('del', diff.elementsAdded), ...lines('add', diff.elementsRemoved)]),
  };
}

/** Canonical lines of palisade's sets (for drift): type and family only, elements sorted. */
export function canonicalSets(sets: readonly Ipset[]): string[] {
  const creates = sets.map((s) => `ipset create ${s.name} hash:net family ${s.family === 4 ? 'inet' : 'inet6'}`);
  const adds = sets.flatMap((s) => s.elements.map((e) => `ipset add ${s.name} ${e}`));
  return [...creates.sort(), ...adds.sort()];
}
