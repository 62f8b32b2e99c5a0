/**
 * A file's identity as the file system tells it (device, inode, size, modification and change times, to the
 * nanosecond): equal identities taken at two instants mean the file was neither replaced nor written in between.
 * Synchronous: a stat of a local file takes microseconds, while a call through libuv's thread pool waits for the
 * event loop to be scheduled again.
 */
import { statSync, type BigIntStats } from 'node:fs';

/** The identity of a file from its stats (fstat of an open file, say). */
export const statIdentity = (s: BigIntStats): string => `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;

/** The identity of the file at `path` (followed through symbolic links); null when there is none or it cannot be read. */
export function fileIdentity(path: string): string | null {
  try {
    const s = statSync(path, { bigint: true, throwIfNoEntry: false });
    return s === undefined ? null : statIdentity(s);
  } catch {
    return null;
  }
}
