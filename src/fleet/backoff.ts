/** Retrying etcd operations while etcd is unreachable: exponential backoff with jitter, capped, until closed. */
import { setTimeout as wait } from 'node:timers/promises';
import type { Logger } from 'pino';

export const BACKOFF_BASE_MS = 200;
export const BACKOFF_MAX_MS = 5000;

/** Delay before retry number `attempt` (0-based): base·2^attempt, capped, ±20 % jitter. */
export function backoffDelay(attempt: number, base = BACKOFF_BASE_MS, max = BACKOFF_MAX_MS): number {
  const delay = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return Math.round(delay * (0.8 + Math.random() * 0.4));
}

/** A wait that does not keep the process alive on its own. */
export const sleep = (ms: number): Promise<void> => wait(ms, undefined, { ref: false });

/** Runs fn until it succeeds; null when `closed()` turned true first. Every failure is logged with its delay. */
export async function retrying<T>(what: string, fn: () => Promise<T>, log: Logger, closed: () => boolean): Promise<T | null> {
  for (let attempt = 0; !closed(); attempt++) {
    try {
      return await fn();
    } catch (cause) {
      if (closed()) return null;
      const delay = backoffDelay(attempt);
      log.warn({ err: (cause as Error).message, retryInMs: delay, attempt: attempt + 1 }, `${what} failed; retrying`);
      await sleep(delay);
    }
  }
  return null;
}
