/** `palisade plan`: every host's ruleset size, and what changes against an earlier policy/inventory. */
import { diffRulesets, rulesetSize, type RulesetDiff, type RulesetSize } from '../compile/diff.ts';
import type { Ruleset } from '../compile/ir.ts';
import { isExpiredNote } from '../compile/compile.ts';
import { formatReview, reviewRules, type RuleReview } from './review.ts';

export type HostStatus = 'new' | 'removed' | 'changed' | 'membership-only' | 'unchanged' | 'compiled';

export interface HostPlan extends RulesetSize {
  host: string;
  status: HostStatus;
  warnings: string[];
  changes: RulesetDiff | null;
  /** Rule by rule, with the fields that changed (null without an earlier version; empty for a new or removed host). */
  review: RuleReview[] | null;
}

export interface Plan {
  hosts: HostPlan[];
  totals: { hosts: number; changed: number; membershipOnly: number; unchanged: number; new: number; removed: number };
}

function statusOf(diff: RulesetDiff, before: Ruleset | undefined, after: Ruleset | undefined): HostStatus {
  if (before === undefined) return 'new';
  if (after === undefined) return 'removed';
  if (diff.unchanged) return 'unchanged';
  return diff.membershipOnly ? 'membership-only' : 'changed';
}

/** With no `before`, every host is just compiled; with one, each host is compared by name. */
export function makePlan(after: readonly Ruleset[], before: readonly Ruleset[] | null): Plan {
  const afterByHost = new Map(after.map((rs) => [rs.host, rs]));
  const beforeByHost = new Map((before ?? []).map((rs) => [rs.host, rs]));
  const names = [...new Set([...afterByHost.keys(), ...beforeByHost.keys()])].sort();
  const hosts = names.map((host): HostPlan => {
    const now = afterByHost.get(host);
    const then = beforeByHost.get(host);
    const size = rulesetSize(now ?? (then as Ruleset));
    if (before === null) return { host, ...size, status: 'compiled', warnings: now?.warnings ?? [], changes: null, review: null };
    const changes = diffRulesets(then ?? null, now ?? null);
    /* A new or removed host is one line: its whole ruleset is the change. */
    const review = changes.unchanged || then === undefined || now === undefined ? [] : reviewRules(then, now);
    return { host, ...size, status: statusOf(changes, then, now), warnings: now?.warnings ?? [], changes, review };
  });
  const count = (s: HostStatus): number => hosts.filter((h) => h.status === s).length;
  return {
    hosts,
    totals: {
      hosts: hosts.length,
      changed: count('changed'),
      membershipOnly: count('membership-only'),
      unchanged: count('unchanged'),
      new: count('new'),
      removed: count('removed'),
    },
  };
}

function changeSummary(h: HostPlan): string {
  const c = h.changes;
  if (c === null) return '';
  const added = Object.values(c.elementsAdded).reduce((n, l) => n + l.length, 0);
  const removed = Object.values(c.elementsRemoved).reduce((n, l) => n + l.length, 0);
  const parts = [
    c.rulesAdded.length + c.rulesRemoved.length > 0 ? `rules +${c.rulesAdded.length}/-${c.rulesRemoved.length}` : '',
    c.setsAdded.length + c.setsRemoved.length > 0 ? `sets +${c.setsAdded.length}/-${c.setsRemoved.length}` : '',
    added + removed > 0 ? `elements +${added}/-${removed}` : '',
  ].filter(Boolean);
  return `${h.status}${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`;
}

/** `name` shows an address with its host's name (`web-7 (10.0.1.17)`) in the verbose review. */
export function formatPlan(plan: Plan, verbose: boolean, name?: (address: string) => string): string {
  const width = Math.max(4, ...plan.hosts.map((h) => h.host.length));
  const withChanges = plan.hosts.some((h) => h.changes !== null);
  const header = `${'HOST'.padEnd(width)}  ${'RULES'.padStart(5)}  ${'SETS'.padStart(4)}  ${'ELEMENTS'.padStart(8)}${withChanges ? '  CHANGE' : ''}`;
  const lines = [header];
  for (const h of plan.hosts) {
    lines.push(`${h.host.padEnd(width)}  ${String(h.rules).padStart(5)}  ${String(h.sets).padStart(4)}  ${String(h.elements).padStart(8)}${withChanges ? `  ${changeSummary(h)}` : ''}`);
    for (const w of h.warnings) if (verbose || isExpiredNote(w)) lines.push(`    note: ${w}`);
    if (verbose && h.review !== null) for (const r of h.review) lines.push(`    ${formatReview(r, name)}`);
  }
  const t = plan.totals;
  lines.push(
    withChanges
      ? `${t.hosts} hosts: ${t.changed} changed, ${t.membershipOnly} membership-only, ${t.new} new, ${t.removed} removed, ${t.unchanged} unchanged`
      : `${t.hosts} hosts compiled`,
  );
  return lines.join('\n');
}
