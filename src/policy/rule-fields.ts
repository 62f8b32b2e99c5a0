/** The fields of a rule beyond AFW's: order, rate limit, ICMP types, service and expiry, read at their positions. */
import { isScalar, isSeq, type Node } from 'yaml';
import type { Protocol, RateLimit, RateUnit, ServiceSpec } from './types.ts';
import { icmpTypes } from './icmp-types.ts';
import { choiceField, stringField } from './fields.ts';
import { didYouMean } from '../suggest.ts';
import type { Entry, SourceFile } from './yaml-source.ts';

export const ORDER_LIMIT = 1_000_000_000;
const RATE_MAX = 1_000_000;
const BURST_MAX = 1_000_000;
const DEFAULT_BURST = 5;
const UNITS: readonly RateUnit[] = ['second', 'minute', 'hour', 'day'];
const PER = ['source', 'destination', 'rule'] as const;
/** A systemd unit name (letters, digits, ":", "_", ".", "-", one optional "@" instance) ending in .service or .scope. */
const UNIT_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9:_.-]{0,200}(@[A-Za-z0-9:_.-]{0,200})?\.(service|scope)$/;
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function integerField(file: SourceFile, entry: Entry, min: number, max: number, rule: string): number | null {
  const { value } = entry;
  if (isScalar(value) && typeof value.value === 'number' && Number.isInteger(value.value) && value.value >= min && value.value <= max) return value.value;
  file.error(value ?? entry.keyNode, `"${entry.key}" must be a whole number from ${min} to ${max}`, rule);
  return null;
}

export function parseOrder(file: SourceFile, entry: Entry, rule: string): number | null {
  return integerField(file, entry, -ORDER_LIMIT, ORDER_LIMIT, rule);
}

function parseRate(file: SourceFile, entry: Entry, rule: string): { rate: number; unit: RateUnit } | null {
  const text = stringField(file, entry, rule);
  if (text === null) return null;
  const match = /^\s*(\d{1,7})\s*\/\s*([a-z]+)\s*$/.exec(text);
  const unit = match?.[2] ?? '';
  const known = UNITS.find((u) => u === unit || `${u}s` === unit);
  const rate = Number(match?.[1]);
  if (match === null || known === undefined || rate < 1 || rate > RATE_MAX) {
    const hint = match !== null && known === undefined ? didYouMean(unit, UNITS) : '';
    file.error(entry.value, `"rate" must be N/second, N/minute, N/hour or N/day with N from 1 to ${RATE_MAX}, as in "10/minute", not "${text}"${hint}`, rule);
    return null;
  }
  return { rate, unit: known };
}

export function parseLimit(file: SourceFile, entry: Entry, rule: string): RateLimit | null {
  const before = file.diagnostics.length;
  const fields = file.entries(entry.value ?? entry.keyNode, '"limit"', { rule, known: ['rate', 'burst', 'per'], noun: 'key in "limit"' });
  if (fields === null) return null;
  const field = (key: string): Entry | undefined => fields.find((e) => e.key === key);
  const rateEntry = field('rate');
  if (rateEntry === undefined) file.error(entry.keyNode, '"limit" needs "rate", as in { rate: 10/minute, burst: 5, per: source }', rule);
  const rate = rateEntry === undefined ? null : parseRate(file, rateEntry, rule);
  const burstEntry = field('burst');
  const burst = burstEntry === undefined ? DEFAULT_BURST : integerField(file, burstEntry, 1, BURST_MAX, rule);
  const perEntry = field('per');
  const per = perEntry === undefined ? 'source' : choiceField(file, perEntry, PER, rule);
  if (file.diagnostics.length !== before || rate === null || burst === null || per === null) return null;
  return { ...rate, burst, per };
}

/** `icmp_type`: names nft knows for the rule's protocol, each checked at its position. */
export function parseIcmpTypes(file: SourceFile, entry: Entry, protocol: Protocol | null | undefined, rule: string): string[] | null {
  if (protocol !== 'icmp' && protocol !== 'icmpv6') {
    if (protocol != null) file.error(entry.keyNode, `"icmp_type" needs protocol icmp or icmpv6, not ${protocol}`, rule);
    return null;
  }
  const known = icmpTypes(protocol);
  const items: Array<Node | null> = entry.value === null ? [] : isSeq(entry.value) ? entry.value.items.map((i) => file.resolve(i)) : [entry.value];
  if (items.length === 0) {
    file.error(entry.value ?? entry.keyNode, '"icmp_type" is empty', rule);
    return null;
  }
  const types: string[] = [];
  let ok = true;
  for (const item of items) {
    const text = isScalar(item) && typeof item.value === 'string' ? item.value.trim().toLowerCase() : null;
    if (text !== null && known.has(text)) {
      if (!types.includes(text)) types.push(text);
      continue;
    }
    ok = false;
    const shown = text === null ? 'not a name' : `"${text}"`;
    file.error(item ?? entry.keyNode, `"icmp_type": ${shown} is not an ${protocol} type (${[...known.keys()].join(', ')})${text === null ? '' : didYouMean(text, [...known.keys()])}`, rule);
  }
  return ok ? types : null;
}

/** The cgroup v2 path systemd gives a unit of the system manager: templated units sit in their own slice. */
export function serviceCgroup(unit: string): string {
  const at = unit.indexOf('@');
  return at === -1 ? `system.slice/${unit}` : `system.slice/system-${unit.slice(0, at)}.slice/${unit}`;
}

export function parseService(file: SourceFile, entry: Entry, rule: string): ServiceSpec | null {
  const text = stringField(file, entry, rule);
  if (text === null) return null;
  if (!UNIT_PATTERN.test(text) || text.includes('..')) {
    file.error(entry.value, `"service": "${text}" is not a systemd unit name (as in nginx.service or getty@tty1.service)`, rule);
    return null;
  }
  return { unit: text, cgroup: serviceCgroup(text) };
}

/** Whether the calendar fields exist (no 31 February, no 25 o'clock). */
function realInstant(match: RegExpExecArray): boolean {
  const [y, mo, d, h, mi, s] = match.slice(1, 7).map((v) => Number(v ?? 0)) as [number, number, number, number, number, number];
  const day = new Date(Date.UTC(y, mo - 1, d));
  return day.getUTCMonth() === mo - 1 && day.getUTCDate() === d && h <= 23 && mi <= 59 && s <= 59;
}

/** An instant with its time zone (`Z` or `+02:00`), so that every host expires the rule at the same moment. */
export function parseExpires(file: SourceFile, entry: Entry, rule: string): { text: string; at: number } | null {
  const text = stringField(file, entry, rule);
  if (text === null) return null;
  const trimmed = text.trim();
  const match = ISO_INSTANT.exec(trimmed);
  const at = Date.parse(trimmed);
  if (match === null || !realInstant(match) || Number.isNaN(at)) {
    file.error(entry.value, `"expires" must be an instant with its time zone, as in 2026-12-31T18:00:00Z, not "${text}"`, rule);
    return null;
  }
  return { text: trimmed, at };
}
