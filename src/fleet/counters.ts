/**
 * `counters/<name>`: a host's drop and reject totals, for the console's hosts table (docs/fleet.md). The agent
 * puts the key only when its totals changed, at most once per interval (a minute by default), on its liveness
 * lease: a dead host's key goes with its heartbeat. Outside the agents' watched range (`counters/` sorts before
 * `hosts/`), so no agent ever sees another's counters: the fleet pays one put per changing host per minute,
 * read by consoles alone. What a reader gets is hostile input: bounded in size, numbers only, names checked.
 */
import type { ChainCounters } from '../kernel/counters.ts';

/** The largest value a reader parses (bytes), and the most chains it keeps. */
export const MAX_COUNTERS_BYTES = 8192;
export const MAX_COUNTER_CHAINS = 32;
const CHAIN_NAME = /^[\x21-\x7e]{1,64}$/;

export interface PublishedCounters {
  /** When the agent read them (ISO 8601, the agent's clock). */
  at: string;
  /** Packets palisade's drop rules dropped, and its reject rules rejected, in every chain. */
  dropped: number;
  rejected: number;
  chains: Array<{ chain: string; dropped: number; rejected: number; logged: number }>;
}

/** The totals of the kernel's per-chain counters (src/kernel/counters.ts), read at `at`. */
export function countersOf(chains: readonly ChainCounters[], at: Date): PublishedCounters {
  const kept = chains.slice(0, MAX_COUNTER_CHAINS).map((c) => ({ chain: c.chain, dropped: c.packets, rejected: c.rejected, logged: c.logged }));
  return { at: at.toISOString(), dropped: kept.reduce((n, c) => n + c.dropped, 0), rejected: kept.reduce((n, c) => n + c.rejected, 0), chains: kept };
}

/** Whether two readings say the same (the time aside): an agent puts a reading only when it says something new. */
export function sameCounts(a: PublishedCounters, b: PublishedCounters): boolean {
  return JSON.stringify({ ...a, at: '' }) === JSON.stringify({ ...b, at: '' });
}

const count = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** Reads one `counters/<name>` value; why it is not one, as an Error to report (never trusted, never thrown further). */
export function parsePublishedCounters(key: string, text: string): PublishedCounters {
  if (text.length > MAX_COUNTERS_BYTES) throw new Error(`${key}: larger than ${MAX_COUNTERS_BYTES} bytes`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new Error(`${key}: not JSON`);
  }
  const { at, dropped, rejected, chains } = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  if (typeof at !== 'string' || at.length > 40 || Number.isNaN(Date.parse(at))) throw new Error(`${key}: "at" must be an ISO 8601 time`);
  if (!count(dropped) || !count(rejected)) throw new Error(`${key}: "dropped" and "rejected" must be whole numbers, 0 or more`);
  if (!Array.isArray(chains) || chains.length > MAX_COUNTER_CHAINS) throw new Error(`${key}: "chains" must be a list of at most ${MAX_COUNTER_CHAINS}`);
  return {
    at: new Date(Date.parse(at)).toISOString(),
    dropped,
    rejected,
    chains: chains.map((c: unknown, i) => {
      const { chain, dropped: d, rejected: r, logged: l } = (typeof c === 'object' && c !== null ? c : {}) as Record<string, unknown>;
      if (typeof chain !== 'string' || !CHAIN_NAME.test(chain)) throw new Error(`${key}: chains[${i}].chain must be a chain name (printable ASCII without spaces, at most 64)`);
      if (!count(d) || !count(r) || !count(l)) throw new Error(`${key}: chains[${i}]: counts must be whole numbers, 0 or more`);
      return { chain, dropped: d, rejected: r, logged: l };
    }),
  };
}
