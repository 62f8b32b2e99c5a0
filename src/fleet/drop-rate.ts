/**
 * The canary rollout's drop-rate gate (`push --canary ... --drop-factor F`): while a rollout names it, a
 * canary's agent writes `drops/<name>` every DROP_SAMPLE_MS (the packets palisade's drop and reject rules
 * counted, src/kernel/counters.ts); `push` keeps the samples it reads and compares, per canary, the drop rate
 * during the bake (after the canary applied the candidate) with its rate before (the baseline window, while
 * the canary still runs the current policy). A rate above F x the baseline + MIN_DROP_RATE fails the gate.
 * Counters restart at 0 when a ruleset is loaded whole: a sample lower than the one before counts from 0.
 */

import { MIN_DROP_RATE } from '../defaults.ts';

/** How often a canary's agent samples its counters during a rollout. */
export const DROP_SAMPLE_MS = 1000;

export interface DropSample {
  /** ISO 8601, the agent's clock. */
  at: string;
  /** Packets counted by the drop and reject rules of palisade's chains. */
  packets: number;
}

/** The sample, or null when the value is not one (a reader ignores it). */
export function decodeDropSample(value: string): DropSample | null {
  try {
    const raw: unknown = JSON.parse(value);
    if (typeof raw !== 'object' || raw === null) return null;
    const { at, packets } = raw as Record<string, unknown>;
    if (typeof at !== 'string' || at.length > 40 || Number.isNaN(Date.parse(at))) return null;
    if (typeof packets !== 'number' || !Number.isSafeInteger(packets) || packets < 0) return null;
    return { at, packets };
  } catch {
    return null;
  }
}

/** The samples read of each host, in time order, each once. */
export class DropHistory {
  private readonly samples = new Map<string, DropSample[]>();

  add(host: string, sample: DropSample): void {
    const list = this.samples.get(host) ?? [];
    const last = list.at(-1);
    if (last !== undefined && Date.parse(sample.at) <= Date.parse(last.at)) return;
    list.push(sample);
    this.samples.set(host, list);
  }

  /** Packets per second between the samples taken in [from, to); null with fewer than two. */
  rate(host: string, from: number, to: number): number | null {
    const inside = (this.samples.get(host) ?? []).filter((s) => Date.parse(s.at) >= from && Date.parse(s.at) < to);
    const first = inside[0];
    const last = inside.at(-1);
    if (first === undefined || last === undefined || first === last) return null;
    let packets = 0;
    for (let i = 1; i < inside.length; i++) {
      const [before, after] = [inside[i - 1] as DropSample, inside[i] as DropSample];
      packets += after.packets >= before.packets ? after.packets - before.packets : after.packets;
    }
    return packets / ((Date.parse(last.at) - Date.parse(first.at)) / 1000);
  }
}

export interface DropRates {
  host: string;
  before: number | null;
  during: number | null;
}

const perSecond = (rate: number): string => `${rate.toFixed(1)}/s`;

/** Why the gate fails (every canary over its limit, with its rates), or null; a canary without rates fails it. */
export function dropGateProblem(rates: readonly DropRates[], factor: number): string | null {
  const problems = rates.flatMap(({ host, before, during }) => {
    if (before === null || during === null) return [`${host} reported no drop counters ${before === null ? 'before' : 'during the bake'}`];
    const limit = factor * before + MIN_DROP_RATE;
    return during > limit ? [`${host} dropped ${perSecond(during)} during the bake against ${perSecond(before)} before (limit ${factor} x ${perSecond(before)} + ${perSecond(MIN_DROP_RATE)} = ${perSecond(limit)})`] : [];
  });
  return problems.length === 0 ? null : `drop rate: ${problems.join('; ')}`;
}
