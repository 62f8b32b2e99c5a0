/** Figures of repeated measurements. */
import { availableParallelism, loadavg } from 'node:os';

/** The middle value (the upper one of the two middles for an even count); 0 for none. */
export const median = (values: readonly number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/** The p-th percentile (nearest rank); 0 for none. */
export const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
};

/** The arithmetic mean; 0 for none. */
export const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);

/** The machine's load, printed beside every figure (the benchmarks run on a shared machine). */
export function machineLoad(): string {
  const [one, five, fifteen] = loadavg().map((l) => l.toFixed(1));
  return `load average ${one} / ${five} / ${fifteen} (1/5/15 min) on ${availableParallelism()} CPU(s)`;
}
