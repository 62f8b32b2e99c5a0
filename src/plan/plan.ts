/** `palisade plan`: every host's ruleset size, and what changes against an earlier policy/inventory. */
import { diffRulesets, rulesetSize, type RulesetDiff, type RulesetSize } from '../compile/diff.ts';
import type { Ruleset } from '../compile/ir.ts';
import { isExpiredNote } from '../compile/compile.ts';
import { formatReview, reviewRules, type RuleReview } from './review.ts';
import { noNames, withName, type HostNamer } from '../audit/host-names.ts';

export type HostStatus = 'new' | 'removed' | 'changed' | 'membership-only' | 'unchanged' | 'compiled';

export interface HostPlan extends RulesetSize {
  host: string;
  status: HostStatus;
  warnings: string[];
  changes: RulesetDiff | null;
  /** Rule by rule, with the fields that changed (null without an earlier version; empty for a new or removed host). */
  review: RuleReview[] | null;
  /** Addresses that joined or left a rule's source or destination here (changed rules only); null without an earlier version. */
  membership: { added: number; removed: number } | null;
}

/** One address joining or leaving one rule's addresses, on every host where it does. */
export interface MembershipChange {
  change: 'added' | 'removed';
  address: string;
  /** `rule "Web to Mongo"`, as the review names it. */
  rule: string;
  /** `source`, `destination`, `published address`. */
  field: string;
  hosts: string[];
}

export interface Plan {
  hosts: HostPlan[];
  totals: {
    hosts: number;
    changed: number;
    membershipOnly: number;
    unchanged: number;
    new: number;
    removed: number;
    /** Over the fleet: addresses joining and leaving rules (one per address and rule, whatever the number of hosts). */
    membership: { added: number; removed: number; hosts: number };
  };
  /** Set membership changes grouped across hosts: identical ones once, with the hosts they happen on. */
  membership: MembershipChange[];
}

/** Identical membership changes of every host, grouped, in a stable order (added first, then by rule and address). */
export function fleetMembership(hosts: readonly HostPlan[]): MembershipChange[] {
  const groups = new Map<string, MembershipChange>();
  for (const h of hosts) {
    for (const r of h.review ?? []) {
      if (r.change !== 'changed') continue;
      for (const f of r.fields) {
        for (const [change, addresses] of [['added', f.added ?? []], ['removed', f.removed ?? []]] as const) {
          for (const address of addresses) {
            const key = JSON.stringify([change, r.rule, f.field, address]);
            const group = groups.get(key) ?? { change, address, rule: r.rule, field: f.field, hosts: [] };
            group.hosts.push(h.host);
            groups.set(key, group);
          }
        }
      }
    }
  }
  const order = (m: MembershipChange): string => JSON.stringify([m.change === 'added' ? 0 : 1, m.rule, m.field, m.address]);
  return [...groups.values()].sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
}

function hostMembership(review: readonly RuleReview[]): { added: number; removed: number } {
  const count = (side: 'added' | 'removed'): number => review.filter((r) => r.change === 'changed').reduce((n, r) => n + r.fields.reduce((m, f) => m + (f[side]?.length ?? 0), 0), 0);
  return { added: count('added'), removed: count('removed') };
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
    if (before === null) return { host, ...size, status: 'compiled', warnings: now?.warnings ?? [], changes: null, review: null, membership: null };
    const changes = diffRulesets(then ?? null, now ?? null);
    /* A new or removed host is one line: its whole ruleset is the change. */
    const review = changes.unchanged || then === undefined || now === undefined ? [] : reviewRules(then, now);
    return { host, ...size, status: statusOf(changes, then, now), warnings: now?.warnings ?? [], changes, review, membership: hostMembership(review) };
  });
  const count = (s: HostStatus): number => hosts.filter((h) => h.status === s).length;
  const membership = fleetMembership(hosts);
  return {
    hosts,
    membership,
    totals: {
      hosts: hosts.length,
      changed: count('changed'),
      membershipOnly: count('membership-only'),
      unchanged: count('unchanged'),
      new: count('new'),
      removed: count('removed'),
      membership: {
        added: membership.filter((m) => m.change === 'added').length,
        removed: membership.filter((m) => m.change === 'removed').length,
        hosts: new Set(membership.flatMap((m) => m.hosts)).size,
      },
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

/** Fleet-wide membership lines shown without --verbose; the rest is counted (all of them are in the JSON). */
const MEMBERSHIP_LINES = 20;
/** Up to this many hosts are named; more are counted. */
const NAMED_HOSTS = 3;

/**
 * `+ web-7 (10.0.1.17, 2001:db8::17) in "Web to Mongo" on 4 hosts`: one line per address (a named host's
 * addresses together) joining or leaving a rule, on the same hosts.
 */
export function formatMembership(changes: readonly MembershipChange[], namer: HostNamer = noNames): string[] {
  const lines = new Map<string, { sign: string; who: string | null; addresses: string[]; where: string }>();
  for (const m of changes) {
    const rule = m.rule.startsWith('rule "') ? m.rule.slice('rule '.length) : m.rule;
    const field = m.field === 'source' || m.field === 'destination' ? '' : ` (${m.field})`;
    const on = m.hosts.length <= NAMED_HOSTS ? m.hosts.join(', ') : `${m.hosts.length} hosts`;
    const where = `in ${rule}${field} on ${on}`;
    const who = namer(m.address);
    const key = who === null ? JSON.stringify([m.change, m.address, where, m.hosts]) : JSON.stringify([m.change, who, where, m.hosts]);
    const line = lines.get(key) ?? { sign: m.change === 'added' ? '+' : '-', who, addresses: [], where };
    line.addresses.push(m.address);
    lines.set(key, line);
  }
  return [...lines.values()].map((l) => `${l.sign} ${l.who === null ? l.addresses.join(', ') : `${l.who} (${l.addresses.join(', ')})`} ${l.where}`);
}

/** `namer` shows an address with its host's name (`web-7 (10.0.1.17)`) in the review and membership lines. */
export function formatPlan(plan: Plan, verbose: boolean, namer: HostNamer = noNames): string {
  const name = (address: string): string => withName(address, namer(address));
  const width = Math.max(4, ...plan.hosts.map((h) => h.host.length));
  const withChanges = plan.hosts.some((h) => h.changes !== null);
  const header = `${'HOST'.padEnd(width)}  ${'RULES'.padStart(5)}  ${'SETS'.padStart(4)}  ${'ELEMENTS'.padStart(8)}${withChanges ? '  CHANGE' : ''}`;
  const lines = [header];
  for (const h of plan.hosts) {
    lines.push(`${h.host.padEnd(width)}  ${String(h.rules).padStart(5)}  ${String(h.sets).padStart(4)}  ${String(h.elements).padStart(8)}${withChanges ? `  ${changeSummary(h)}` : ''}`);
    for (const w of h.warnings) if (verbose || isExpiredNote(w)) lines.push(`    note: ${w}`);
    if (verbose && h.review !== null) for (const r of h.review) lines.push(`    ${formatReview(r, name)}`);
  }
  const membership = formatMembership(plan.membership, namer);
  if (membership.length > 0) {
    const shown = verbose ? membership : membership.slice(0, MEMBERSHIP_LINES);
    lines.push('set membership over the fleet:', ...shown.map((l) => `  ${l}`));
    if (shown.length < membership.length) lines.push(`  ... ${membership.length - shown.length} more (--verbose, or --format json)`);
  }
  const t = plan.totals;
  const m = t.membership;
  lines.push(
    withChanges
      ? `${t.hosts} hosts: ${t.changed} changed, ${t.membershipOnly} membership-only, ${t.new} new, ${t.removed} removed, ${t.unchanged} unchanged` +
          (m.added + m.removed > 0 ? `; set membership +${m.added}/-${m.removed} on ${m.hosts} host${m.hosts === 1 ? '' : 's'}` : '')
      : `${t.hosts} hosts compiled`,
  );
  return lines.join('\n');
}
