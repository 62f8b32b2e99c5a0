/**
 * A plan that reads like a review: the rules of two rulesets of one host grouped by chain and by what put
 * them there (a policy rule's v4 and v6 forms are one rule), each group read as fields (protocol, ports,
 * addresses, interface, user, limit, verdict), and a group present on both sides but different shown once
 * as changed, with only the fields that changed: `~ input: rule "API cluster RPC": dport 7000-7010 → 7000-7005`.
 */
import { describeOrigin } from '../compile/origin.ts';
import type { IrRule, Match, Ruleset } from '../compile/ir.ts';
import { formatPorts, mergePorts } from '../policy/ports.ts';

export interface FieldChange {
  field: string;
  /** Scalar fields: the value before and after (`-` when absent). */
  before?: string;
  after?: string;
  /** Address fields: members added and removed. */
  added?: string[];
  removed?: string[];
}

export interface RuleReview {
  change: 'added' | 'removed' | 'changed';
  chain: string;
  /** `rule "API cluster RPC"`, `failsafe in #1`, ... */
  rule: string;
  /** Changed: the fields that differ. Added/removed: every field of the rule. */
  fields: FieldChange[];
}

/** A group's fields: scalar text, or address sets. */
interface Face {
  scalars: Map<string, string>;
  addresses: Map<string, Set<string>>;
}

const ADDRESS_FIELD: Record<string, string> = { saddr: 'source', daddr: 'destination', 'saddr-net': 'source', 'daddr-net': 'destination', 'ct-dnat': 'published address' };

function face(rules: readonly IrRule[], rs: Ruleset): Face {
  const scalar = new Map<string, Set<string>>();
  const addresses = new Map<string, Set<string>>();
  const ports = new Map<string, Array<{ from: number; to: number }>>();
  const put = (field: string, text: string): void => {
    const values = scalar.get(field) ?? new Set<string>();
    values.add(text);
    scalar.set(field, values);
  };
  const address = (field: string, items: Iterable<string>): void => {
    const set = addresses.get(field) ?? new Set<string>();
    for (const i of items) set.add(i);
    addresses.set(field, set);
  };
  for (const rule of rules) {
    if (rule.raw !== undefined) put('text', [rule.raw.nft, rule.raw.iptables].filter((t) => t !== undefined).join(' | '));
    for (const m of rule.matches as Match[]) {
      switch (m.kind) {
        case 'saddr':
        case 'daddr':
          address(ADDRESS_FIELD[m.kind] as string, rs.sets.find((s) => s.name === m.set)?.elements ?? [`@${m.set}`]);
          break;
        case 'saddr-net':
        case 'daddr-net':
        case 'ct-dnat':
          address(ADDRESS_FIELD[m.kind] as string, m.kind === 'ct-dnat' ? m.addresses : m.cidrs);
          break;
        case 'dport':
        case 'sport':
        case 'orig-dport': {
          /* A published port is the rule's dport, matched before DNAT. */
          const field = m.kind === 'sport' ? 'sport' : 'dport';
          ports.set(field, [...(ports.get(field) ?? []), ...m.ports]);
          break;
        }
        case 'proto':
          put('protocol', m.protocol);
          break;
        case 'icmp-type':
          put('icmp type', m.types.join(','));
          break;
        case 'iif':
        case 'oif':
          put('interface', m.name);
          break;
        case 'skuid':
          put('uid', String(m.uid));
          break;
        case 'cgroup':
          put('service', m.path);
          break;
        case 'limit':
          put('limit', `${m.rate}/${m.unit} burst ${m.burst} per ${m.per}`);
          break;
        case 'ct-established':
        case 'icmpv6-link':
          put('match', m.kind);
          break;
      }
    }
    const v = rule.verdict;
    put('action', v.kind === 'jump' || v.kind === 'goto' ? `${v.kind} ${v.chain}` : v.kind === 'log' ? `log ${v.prefix}${v.group === undefined ? '' : ` group ${v.group}`}` : v.kind);
  }
  const scalars = new Map<string, string>([...scalar].map(([k, v]) => [k, [...v].sort().join(',')]));
  for (const [k, ranges] of ports) scalars.set(k, formatPorts(mergePorts(ranges)));
  return { scalars, addresses };
}

const FIELD_ORDER = ['protocol', 'dport', 'sport', 'icmp type', 'source', 'destination', 'published address', 'interface', 'uid', 'service', 'limit', 'match', 'action', 'text'];
const byField = (a: FieldChange, b: FieldChange): number => FIELD_ORDER.indexOf(a.field) - FIELD_ORDER.indexOf(b.field);

function allFields(f: Face): FieldChange[] {
  return [...[...f.scalars].map(([field, value]) => ({ field, after: value })), ...[...f.addresses].map(([field, set]) => ({ field, added: [...set] }))].sort(byField);
}

function changedFields(before: Face, after: Face): FieldChange[] {
  const out: FieldChange[] = [];
  for (const field of new Set([...before.scalars.keys(), ...after.scalars.keys()])) {
    const b = before.scalars.get(field) ?? '-';
    const a = after.scalars.get(field) ?? '-';
    if (a !== b) out.push({ field, before: b, after: a });
  }
  for (const field of new Set([...before.addresses.keys(), ...after.addresses.keys()])) {
    const b = before.addresses.get(field) ?? new Set<string>();
    const a = after.addresses.get(field) ?? new Set<string>();
    const added = [...a].filter((x) => !b.has(x));
    const removed = [...b].filter((x) => !a.has(x));
    if (added.length + removed.length > 0) out.push({ field, added, removed });
  }
  return out.sort(byField);
}

/** Rules by what put them there, across chains (a rule's v4 and v6 forms, its input and published-port forms). */
function groups(rs: Ruleset | null): Map<string, { chain: string; rule: string; rules: IrRule[] }> {
  const out = new Map<string, { chains: string[]; rule: string; rules: IrRule[] }>();
  for (const chain of rs?.chains ?? []) {
    for (const rule of chain.rules) {
      const name = describeOrigin(rule.origin);
      const group = out.get(name) ?? { chains: [], rule: name, rules: [] };
      if (!group.chains.includes(chain.name)) group.chains.push(chain.name);
      group.rules.push(rule);
      out.set(name, group);
    }
  }
  return new Map([...out].map(([k, g]) => [k, { chain: g.chains.join(', '), rule: g.rule, rules: g.rules }]));
}

/** Rule-level changes between two rulesets of one host, in the after ruleset's chain order. */
export function reviewRules(before: Ruleset | null, after: Ruleset | null): RuleReview[] {
  const then = groups(before);
  const now = groups(after);
  const out: RuleReview[] = [];
  for (const [key, g] of now) {
    const old = then.get(key);
    if (old === undefined) {
      out.push({ change: 'added', chain: g.chain, rule: g.rule, fields: allFields(face(g.rules, after as Ruleset)) });
      continue;
    }
    const fields = changedFields(face(old.rules, before as Ruleset), face(g.rules, after as Ruleset));
    if (fields.length > 0) out.push({ change: 'changed', chain: g.chain, rule: g.rule, fields });
  }
  for (const [key, g] of then) if (!now.has(key)) out.push({ change: 'removed', chain: g.chain, rule: g.rule, fields: allFields(face(g.rules, before as Ruleset)) });
  return out;
}

const MAX_LISTED = 5;

/** One field for people; `name` turns an address into `web-7 (10.0.1.17)` where it knows the host. */
export function formatField(f: FieldChange, name: (address: string) => string = (a) => a): string {
  if (f.added === undefined && f.removed === undefined) return f.before === undefined ? `${f.field} ${f.after ?? '-'}` : `${f.field} ${f.before} → ${f.after ?? '-'}`;
  const list = (sign: string, items: readonly string[]): string[] =>
    items.length === 0 ? [] : [`${items.slice(0, MAX_LISTED).map((a) => `${sign}${name(a)}`).join(' ')}${items.length > MAX_LISTED ? ` ${sign}${items.length - MAX_LISTED} more` : ''}`];
  return [f.field, ...list(f.before === undefined && f.removed === undefined ? '' : '+', f.added ?? []), ...list('-', f.removed ?? [])].join(' ');
}

export function formatReview(r: RuleReview, name?: (address: string) => string): string {
  const sign = r.change === 'added' ? '+' : r.change === 'removed' ? '-' : '~';
  return `${sign} ${r.chain}: ${r.rule}: ${r.fields.map((f) => formatField(f, name)).join('; ')}`;
}
