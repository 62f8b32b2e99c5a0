/** Port lists: numbers, `8000:8100` / `8000-8100` ranges, service names; sorted and merged. */
import type { PortRange } from './types.ts';
import { serviceNames, servicePort } from './services.ts';
import { didYouMean } from '../suggest.ts';

function port(text: string, whole: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw new Error(`"${whole}": a port is a number from 1 to 65535`);
  return n;
}

function parseOne(value: unknown): PortRange {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`${value}: a port is a number from 1 to 65535`);
    return { from: value, to: value };
  }
  if (typeof value !== 'string') throw new Error(`a port must be a number, a range like "8000:8100" or a service name, not ${describe(value)}`);
  const text = value.trim();
  if (text === '') throw new Error('empty port');
  const range = /^(\d+)\s*[:-]\s*(\d+)$/.exec(text);
  if (range !== null) {
    const from = port(range[1] ?? '', text);
    const to = port(range[2] ?? '', text);
    if (from > to) throw new Error(`"${text}": the range starts after it ends (did you mean ${to}:${from}?)`);
    return { from, to };
  }
  if (/^\d+$/.test(text)) {
    const n = port(text, text);
    return { from: n, to: n };
  }
  const service = servicePort(text.toLowerCase());
  if (service === undefined) throw new Error(`unknown service "${text}"${didYouMean(text, serviceNames())}; give the port number instead`);
  return { from: service, to: service };
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

/** Sorts ranges and merges those that overlap or touch. */
export function mergePorts(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) => a.from - b.from || a.to - b.to);
  const merged: PortRange[] = [];
  for (const r of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else merged.push({ ...r });
  }
  return merged;
}

/** A port, range, service name, or a list of those; throws an Error saying what is wrong. */
export function parsePorts(value: unknown): PortRange[] {
  if (Array.isArray(value)) {
    if (value.length === 0) throw new Error('empty port list');
    return mergePorts(value.map(parseOne));
  }
  return [parseOne(value)];
}

/** Ports for people: `22`, `7000-7010`, `80,443`. */
export function formatPorts(ranges: readonly PortRange[]): string {
  return ranges.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)).join(',');
}
