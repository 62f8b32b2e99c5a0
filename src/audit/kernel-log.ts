/**
 * Kernel log lines of palisade's LOG rules (`DROP_PAL_*` when enforcing, `AUDIT_PAL_*` with kernel LOG)
 * → flow records. Takes the line as `dmesg -r`, `/dev/kmsg`, `journalctl -k` (short or short-iso) print
 * it: whatever comes before the prefix is only read for a leading ISO time.
 */
import { AUDIT_PREFIX, DROP_PREFIX } from '../layout.ts';
import { flowProtocol, hasPorts, verdictOfPrefix, type FlowRecord } from './flow.ts';

const PREFIX = new RegExp(`\\b((?:${AUDIT_PREFIX}|${DROP_PREFIX})[A-Za-z0-9_.@-]*)\\s`);
const ISO_TIME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?)\s/;

function fields(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const token of text.split(/\s+/)) {
    const eq = token.indexOf('=');
    if (eq > 0 && !map.has(token.slice(0, eq))) map.set(token.slice(0, eq), token.slice(eq + 1));
  }
  return map;
}

export function parseKernelLogLine(line: string): FlowRecord | null {
  const match = PREFIX.exec(line);
  if (match === null) return null;
  const prefix = match[1] as string;
  const verdict = verdictOfPrefix(prefix);
  const f = fields(line.slice(match.index + match[0].length));
  const protocol = flowProtocol(f.get('PROTO') ?? '');
  const source = f.get('SRC');
  const destination = f.get('DST');
  if (verdict === null || protocol === null || source === undefined || destination === undefined) return null;
  const port = Number(f.get('DPT'));
  const uid = Number(f.get('UID'));
  const time = ISO_TIME.exec(line)?.[1];
  return {
    source,
    destination,
    protocol,
    port: hasPorts(protocol) && Number.isInteger(port) && f.has('DPT') ? port : null,
    uid: f.has('UID') && Number.isInteger(uid) ? uid : null,
    verdict,
    prefix,
    time: time === undefined ? null : new Date(time).toISOString(),
    packets: 1,
  };
}
