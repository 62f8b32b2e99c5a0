/**
 * Flows: what talked to what. A `FlowRecord` is one observation (a logged packet, a conntrack entry); a
 * `Flow` is the records of one (source, destination, protocol, port, uid) added up. Flow files
 * (`palisade observe --out`, `palisade flows --format json`) hold `{ "flows": Flow[] }` and are what
 * `impact` and `suggest` read.
 */
import { readFile } from 'node:fs/promises';
import { AUDIT_PREFIX, DROP_PREFIX } from '../layout.ts';
import { OperationError } from '../diagnostics.ts';

export type FlowProtocol = 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'vrrp' | 'ospf';

/** What the kernel said about the flow: audit mode let it through, an enforced drop, or a live connection. */
export type FlowVerdict = 'audit' | 'drop' | 'live';

/** What identifies a flow: records and flows with the same key add up. */
export interface FlowKey {
  source: string;
  destination: string;
  protocol: FlowProtocol;
  /** Destination port; null for protocols without ports. */
  port: number | null;
  /** Uid owning the socket, when the record says (outbound logs, ss). */
  uid: number | null;
  verdict: FlowVerdict;
}

export interface FlowRecord extends FlowKey {
  /** The log prefix (`AUDIT_PAL_INPUT`, `DROP_PAL_OUT_app`), or null for live connections. */
  prefix: string | null;
  /** ISO time; null when the source has no wall clock (dmesg's seconds since boot). */
  time: string | null;
  /** Packets this record stands for. */
  packets: number;
}

export interface Flow extends FlowKey {
  /** Log prefixes seen, sorted. */
  prefixes: string[];
  /** Records aggregated. */
  count: number;
  packets: number;
  firstSeen: string | null;
  lastSeen: string | null;
}

export interface FlowFile {
  flows: Flow[];
}

const PROTOCOL_NUMBERS: Record<number, FlowProtocol> = { 6: 'tcp', 17: 'udp', 1: 'icmp', 58: 'icmpv6', 112: 'vrrp', 89: 'ospf' };

/** A protocol by number (ulogd) or name (kernel log, conntrack); null for one palisade has no rules for. */
export function flowProtocol(value: number | string): FlowProtocol | null {
  if (typeof value === 'number') return PROTOCOL_NUMBERS[value] ?? null;
  const name = value.toLowerCase();
  if (name === 'ipv6-icmp' || name === 'icmp6') return 'icmpv6';
  return (Object.values(PROTOCOL_NUMBERS) as string[]).includes(name) ? (name as FlowProtocol) : null;
}

export const hasPorts = (protocol: FlowProtocol): boolean => protocol === 'tcp' || protocol === 'udp';

/** The verdict a palisade log prefix stands for; null for a prefix that is not palisade's. */
export function verdictOfPrefix(prefix: string): FlowVerdict | null {
  if (prefix.startsWith(AUDIT_PREFIX)) return 'audit';
  if (prefix.startsWith(DROP_PREFIX)) return 'drop';
  return null;
}

export class FlowFileError extends OperationError {
  override readonly name = 'FlowFileError';
}

/** A flow read from a file or from another host's `flows/<name>`: checked, never trusted as it is. */
export function checkFlow(value: unknown, where: string): Flow {
  const f = value as Partial<Flow> | null;
  const ok =
    f !== null &&
    typeof f === 'object' &&
    typeof f.source === 'string' &&
    typeof f.destination === 'string' &&
    typeof f.protocol === 'string' &&
    flowProtocol(f.protocol) !== null &&
    (f.port === null || (Number.isInteger(f.port) && (f.port as number) >= 0 && (f.port as number) <= 65535));
  if (!ok) throw new FlowFileError(`${where}: a flow needs source, destination, protocol (tcp, udp, icmp, ...) and port (a number or null)`);
  const flow = f as Flow;
  return {
    source: flow.source,
    destination: flow.destination,
    protocol: flow.protocol,
    port: flow.port,
    uid: typeof flow.uid === 'number' ? flow.uid : null,
    verdict: flow.verdict ?? 'live',
    prefixes: Array.isArray(flow.prefixes) ? flow.prefixes : [],
    count: typeof flow.count === 'number' ? flow.count : 1,
    packets: typeof flow.packets === 'number' ? flow.packets : 1,
    firstSeen: flow.firstSeen ?? null,
    lastSeen: flow.lastSeen ?? null,
  };
}

/** The flows of a flow file's text. */
export function parseFlowFile(text: string, path: string): Flow[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new FlowFileError(`${path}: not JSON: ${(cause as Error).message}`);
  }
  const flows = (data as Partial<FlowFile> | null)?.flows;
  if (!Array.isArray(flows)) throw new FlowFileError(`${path}: expected {"flows": [...]}`);
  return flows.map((f, i) => checkFlow(f, `${path}: flows[${i}]`));
}

/** A flow or log file's text; an unreadable file is a FlowFileError naming it. */
export async function readFlowInput(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (cause) {
    throw new FlowFileError(`cannot read ${path}: ${(cause as Error).message}`);
  }
}

export async function readFlowFiles(paths: readonly string[]): Promise<Flow[]> {
  const flows: Flow[] = [];
  for (const path of paths) flows.push(...parseFlowFile(await readFlowInput(path), path));
  return flows;
}
