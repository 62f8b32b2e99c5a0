/** The agent's log: pino JSON lines on stderr (stdout stays free for command output). */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level = 'info', bindings: Record<string, string> = {}): Logger {
  return pino({ level, base: { pid: process.pid, ...bindings } }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything (benchmarks, tests). */
export const silentLogger = (): Logger => pino({ level: 'silent' });
