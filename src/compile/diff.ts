/** What changes between two rulesets of one host: rules, sets, and set members. */
import type { IrRule, Ruleset } from './ir.ts';
import { describeOrigin } from './origin.ts';

export interface RulesetSize {
  rules: number;
  sets: number;
  elements: number;
}

export interface RulesetDiff {
  rulesAdded: string[];
  rulesRemoved: string[];
  setsAdded: string[];
  setsRemoved: string[];
  /** set name -> elements */
  elementsAdded: Record<string, string[]>;
  elementsRemoved: Record<string, string[]>;
  /** Same rules and sets, only members differ: can be applied as element updates, without a reload. */
  membershipOnly: boolean;
  unchanged: boolean;
}

export function rulesetSize(rs: Ruleset): RulesetSize {
  return {
    rules: rs.chains.reduce((n, c) => n + c.rules.length, 0) + rs.rawIptables.length,
    sets: rs.sets.length,
    elements: rs.sets.reduce((n, s) => n + s.elements.length, 0),
  };
}

function describeRule(chain: string, rule: IrRule): string {
  return `${chain}: ${describeOrigin(rule.origin)}`;
}

/** Rules keyed by everything that reaches the kernel; the value is how a person reads the rule. */
function ruleKeys(rs: Ruleset): Map<string, string> {
  const keys = new Map<string, string>();
  for (const chain of rs.chains) {
    chain.rules.forEach((rule, position) => {
      const key = JSON.stringify([chain.name, chain.hook, rule.matches, rule.verdict, rule.comment, rule.raw ?? null]);
      keys.set(keys.has(key) ? `${key}#${position}` : key, describeRule(chain.name, rule));
    });
  }
  for (const raw of rs.rawIptables) keys.set(JSON.stringify(['iptables', raw]), `iptables ${raw.table} ${raw.chain}: raw "${raw.name}"`);
  return keys;
}

const minus = <T>(a: Map<string, T>, b: Map<string, T>): T[] => [...a].filter(([k]) => !b.has(k)).map(([, v]) => v);

/** One edit of an element list: at position `at` of the list before, `remove` elements give way to `insert`. */
export interface Splice {
  at: number;
  remove: number;
  insert: string[];
}

/** How many elements, in both lists, are passed over looking for where they agree again after a difference. */
const REALIGN = 16;
/** Edits before the rest of the lists is taken as one (a change of members touches a few elements). */
const MAX_SPLICES = 256;

/** The nearest positions past i and j where the lists agree again (fewest elements passed over); null: none near. */
function realign(before: readonly string[], i: number, after: readonly string[], j: number): { remove: number; insert: number } | null {
  for (let passed = 1; passed <= REALIGN; passed += 1) {
    for (let remove = 0; remove <= passed; remove += 1) {
      const insert = passed - remove;
      if (i + remove < before.length && j + insert < after.length && before[i + remove] === after[j + insert]) return { remove, insert };
    }
  }
  return null;
}

/**
 * The edits that make `after` of `before`, in order of position. A change of membership mostly touches a few
 * elements of long lists kept in one order (a host leaves here, another joins there): both lists are walked
 * together, and where they differ, the edit runs to the nearest place where they agree again; far from any such
 * place (or past MAX_SPLICES edits), one edit replaces the rest. Applied to `before` (applySplices), they give `after`.
 */
export function elementSplices(before: readonly string[], after: readonly string[]): Splice[] {
  const splices: Splice[] = [];
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    if (i < before.length && j < after.length && before[i] === after[j]) {
      i += 1;
      j += 1;
      continue;
    }
    const next = splices.length < MAX_SPLICES ? realign(before, i, after, j) : null;
    if (next === null) {
      splices.push({ at: i, remove: before.length - i, insert: after.slice(j) });
      break;
    }
    splices.push({ at: i, remove: next.remove, insert: after.slice(j, j + next.insert) });
    i += next.remove;
    j += next.insert;
  }
  return splices;
}

/** `elements` with the splices (in order of position, not overlapping) made; null when they do not fit it. */
export function applySplices(elements: readonly string[], splices: readonly Splice[]): string[] | null {
  const out: string[] = [];
  let from = 0;
  for (const { at, remove, insert } of splices) {
    if (remove < 0 || at < from || at + remove > elements.length) return null;
    for (let k = from; k < at; k += 1) out.push(elements[k] as string);
    for (const element of insert) out.push(element);
    from = at + remove;
  }
  for (let k = from; k < elements.length; k += 1) out.push(elements[k] as string);
  return out;
}

/**
 * Members added and removed between two element lists (a set's elements are distinct): only what the splices
 * touch is compared, and an element they remove in one place and insert in another has moved, not changed.
 */
export function elementChanges(before: readonly string[], after: readonly string[]): { added: string[]; removed: string[] } {
  return spliceChanges(before, elementSplices(before, after));
}

/** Members added and removed by splices of `before` (elementChanges, for splices already known: a journal line's). */
export function spliceChanges(before: readonly string[], splices: readonly Splice[]): { added: string[]; removed: string[] } {
  const out = splices.flatMap((s) => before.slice(s.at, s.at + s.remove));
  const into = splices.flatMap((s) => s.insert);
  const outSet = new Set(out);
  const intoSet = new Set(into);
  return { added: into.filter((e) => !outSet.has(e)), removed: out.filter((e) => !intoSet.has(e)) };
}

/** The sets whose members a diff changes (added to, removed from, or both). */
export function membersChanged(diff: RulesetDiff): string[] {
  return [...new Set([...Object.keys(diff.elementsAdded), ...Object.keys(diff.elementsRemoved)])];
}

/** The last diff, by identity of its rulesets: the applier and the kernel backend ask for the same one. */
let last: { before: Ruleset | null; after: Ruleset | null; diff: RulesetDiff } | null = null;

/** Rulesets are never modified once compiled: a diff of the same two objects is the same diff. */
export function diffRulesets(before: Ruleset | null, after: Ruleset | null): RulesetDiff {
  if (last !== null && last.before === before && last.after === after) return last.diff;
  const diff = computeDiff(before, after);
  last = { before, after, diff };
  return diff;
}

function computeDiff(before: Ruleset | null, after: Ruleset | null): RulesetDiff {
  /* A ruleset made of another by changing set members (a journal line replayed) shares its rules. */
  const sameRules = before !== null && after !== null && before.chains === after.chains && before.rawIptables === after.rawIptables;
  const beforeRules = before === null || sameRules ? new Map<string, string>() : ruleKeys(before);
  const afterRules = after === null || sameRules ? new Map<string, string>() : ruleKeys(after);
  const beforeSets = new Map((before?.sets ?? []).map((s) => [s.name, s]));
  const afterSets = new Map((after?.sets ?? []).map((s) => [s.name, s]));
  const elementsAdded: Record<string, string[]> = {};
  const elementsRemoved: Record<string, string[]> = {};
  for (const [name, set] of afterSets) {
    const old = beforeSets.get(name);
    if (old === undefined || old.interval !== set.interval) continue;
    if (old.elements === set.elements) continue;
    const { added, removed } = elementChanges(old.elements, set.elements);
    if (added.length > 0) elementsAdded[name] = added;
    if (removed.length > 0) elementsRemoved[name] = removed;
  }
  const rulesAdded = minus(afterRules, beforeRules);
  const rulesRemoved = minus(beforeRules, afterRules);
  const setsAdded = [...afterSets.keys()].filter((n) => !beforeSets.has(n));
  const setsRemoved = [...beforeSets.keys()].filter((n) => !afterSets.has(n));
  const setsReshaped = [...afterSets].some(([n, s]) => beforeSets.has(n) && beforeSets.get(n)?.interval !== s.interval);
  const structural = rulesAdded.length + rulesRemoved.length + setsAdded.length + setsRemoved.length > 0 || setsReshaped;
  const membership = Object.keys(elementsAdded).length + Object.keys(elementsRemoved).length > 0;
  return {
    rulesAdded,
    rulesRemoved,
    setsAdded,
    setsRemoved,
    elementsAdded,
    elementsRemoved,
    membershipOnly: !structural && membership && before !== null && after !== null,
    unchanged: !structural && !membership && (before === null) === (after === null),
  };
}
