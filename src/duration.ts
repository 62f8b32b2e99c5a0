/** Durations as users type them (`--confirm 30s`, `--lock-timeout 2m`, `--bake 500ms`). */

/** The longest a duration may be (a confirmation, a lock timeout): a day. */
export const MAX_DURATION_MS = 24 * 3_600_000;

/** `30s`, `2m`, `1h`, `500ms` or bare seconds → milliseconds; null when malformed, not positive or over 24 h. */
export function parseDuration(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (match === null) return null;
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  const ms = Math.round(Number(match[1]) * factor);
  return ms > 0 && ms <= MAX_DURATION_MS ? ms : null;
}
