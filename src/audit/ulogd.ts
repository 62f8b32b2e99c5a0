/**
 * ulogd2's JSON output (one object per line) of palisade's NFLOG audit records → flow records.
 *
 * Why NFLOG through ulogd2 is the source of denied flows: NFLOG works in every network namespace (the
 * kernel's LOG target is silent outside the initial one unless `net.netfilter.nf_log_all_netns=1`, a
 * machine-wide switch), it carries the socket's uid on outbound packets without extra flags, it does not
 * flood the kernel ring buffer or the journal, and ulogd2's JSON is structured (no text scraping). The
 * kernel log remains readable (src/audit/kernel-log.ts) for hosts that log enforced drops with LOG.
 *
 * ulogd2 setup: the NFLOG → BASE → IFINDEX → IP2STR → JSON stack on palisade's group (default 7, see
 * `settings.audit.log_group`); examples/audit/ulogd.conf is a working configuration.
 */
import { flowProtocol, verdictOfPrefix, type FlowRecord } from './flow.ts';

interface UlogdRecord {
  timestamp?: string;
  'oob.prefix'?: string;
  'oob.uid'?: number;
  'ip.protocol'?: number;
  src_ip?: string;
  dest_ip?: string;
  dest_port?: number;
}

/** ulogd writes local time without a zone; `oob.time.sec` is UTC seconds, preferred when present. */
function recordTime(record: Record<string, unknown>): string | null {
  const seconds = record['oob.time.sec'];
  const micros = record['oob.time.usec'];
  if (typeof seconds === 'number') return new Date(seconds * 1000 + (typeof micros === 'number' ? Math.floor(micros / 1000) : 0)).toISOString();
  return typeof record.timestamp === 'string' ? record.timestamp : null;
}

/** One line; null for a line that is not a palisade record of a protocol palisade filters. */
export function parseUlogdLine(line: string): FlowRecord | null {
  const text = line.trim();
  if (!text.startsWith('{')) return null;
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  const record = raw as UlogdRecord;
  const prefix = record['oob.prefix']?.trim() ?? '';
  const verdict = verdictOfPrefix(prefix);
  const protocol = typeof record['ip.protocol'] === 'number' ? flowProtocol(record['ip.protocol']) : null;
  if (verdict === null || protocol === null || typeof record.src_ip !== 'string' || typeof record.dest_ip !== 'string') return null;
  return {
    source: record.src_ip,
    destination: record.dest_ip,
    protocol,
    port: typeof record.dest_port === 'number' && (protocol === 'tcp' || protocol === 'udp') ? record.dest_port : null,
    uid: typeof record['oob.uid'] === 'number' ? record['oob.uid'] : null,
    verdict,
    prefix,
    time: recordTime(raw),
    packets: 1,
  };
}
