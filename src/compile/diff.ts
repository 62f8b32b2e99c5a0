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

/**
 * Where two element lists differ: the length of their common head and of their common tail (not overlapping).
 * A change of membership mostly touches a few elements of a long list kept in one order, so what lies between
 * is short: `after` is `before`'s head, then after.slice(head, after.length - tail), then `before`'s tail.
 */
export function elementEdit(before: readonly string[], after: readonly string[]): { head: number; tail: number } {
  let head = 0;
  while (head < before.length && head < after.length && before[head] === after[head]) head += 1;
  let tail = 0;
  while (tail < before.length - head && tail < after.length - head && before[before.length - 1 - tail] === after[after.length - 1 - tail]) tail += 1;
  return { head, tail };
}

/** Members added and removed between two element lists (a set's elements are distinct): only the edited part is hashed. */
export function elementChanges(before: readonly string[], after: readonly string[]): { added: string[]; removed: string[] } {
  const { head, tail } = elementEdit(before, after);
  const oldMiddle = before.slice(head, before.length - tail);
  const newMiddle = after.slice(head, after.length - tail);
  const oldSet = new Set(oldMiddle);
  const newSet = new Set(newMiddle);
  return { added: newMiddle.filter((e) => !oldSet.has(e)), removed: oldMiddle.filter((e) => !newSet.has(e)) };
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
  const beforeRules = before === null ? new Map<string, string>() : ruleKeys(before);
  const afterRules = after === null ? new Map<string, string>() : ruleKeys(after);
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
