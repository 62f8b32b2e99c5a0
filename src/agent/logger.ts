/** The agent's log: pino JSON lines on stderr (stdout stays free for command output). */
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * `bindings` (the agent's `host`) are on every line: a log call must not repeat one of their keys (pino would
 * write the key twice), so what is about another host says `aboutHost`.
 */
export function createLogger(level = 'info', bindings: Record<string, string> = {}, destination: DestinationStream = pino.destination({ fd: 2, sync: true })): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings } }, destination);
}

/** A logger that drops everything (benchmarks, tests). */
export const silentLogger = (): Logger => pino({ level: 'silent' });
