/**
 * `palisade observe`: a snapshot of what talks to what on this host right now, before any rule is written.
 * Connections come from conntrack (every tracked flow, including ones through the host's own sockets),
 * owners from `ss -tunapeH` (the uid of the local socket of an outbound connection), and listening
 * sockets from the same `ss`. Loopback traffic is left out: palisade always accepts it.
 */
import { aggregateFlows } from './aggregate.ts';
import { parseConntrack, type ConntrackEntry } from './conntrack.ts';
import type { Flow, FlowFile, FlowRecord } from './flow.ts';
import { isListening, parseSs, type SocketEntry } from './ss.ts';
import { execTool } from '../kernel/exec.ts';
import { OperationError } from '../diagnostics.ts';

export interface Listener {
  protocol: 'tcp' | 'udp';
  /** null: every address. */
  address: string | null;
  port: number;
  uid: number | null;
  process: string | null;
}

export interface Snapshot extends FlowFile {
  observedAt: string;
  /** The network namespace observed, when not the current one. */
  netns: string | null;
  flows: Flow[];
  listening: Listener[];
}

export class ObserveError extends OperationError {
  override readonly name = 'ObserveError';
}

const isLoopback = (address: string): boolean => address.startsWith('127.') || address === '::1';

/** The uid of the local socket that opened `entry`, from ss: local end = conntrack's original source. */
function ownerOf(entry: ConntrackEntry, sockets: readonly SocketEntry[]): number | null {
  const socket = sockets.find(
    (s) => s.protocol === entry.protocol && s.localAddress === entry.source && s.localPort === entry.sourcePort && s.peerAddress === entry.destination && s.peerPort === entry.port,
  );
  return socket?.uid ?? null;
}

/** Builds the snapshot from the tools' outputs (pure: the tests feed it recorded outputs). */
export function snapshotFrom(conntrackText: string, ssText: string, observedAt: string, netns: string | null): Snapshot {
  const sockets = parseSs(ssText);
  const records: FlowRecord[] = parseConntrack(conntrackText)
    .filter((e) => !isLoopback(e.source) && !isLoopback(e.destination))
    .map((e) => ({ source: e.source, destination: e.destination, protocol: e.protocol, port: e.port, uid: ownerOf(e, sockets), verdict: 'live', prefix: null, time: observedAt, packets: 1 }));
  const listening = sockets
    .filter((s) => isListening(s) && s.localPort !== null && !isLoopback(s.localAddress))
    .map((s) => ({ protocol: s.protocol, address: s.localAddress === '*' ? null : s.localAddress, port: s.localPort as number, uid: s.uid, process: s.process }));
  const seen = new Set<string>();
  const unique = listening.filter((l) => {
    const k = `${l.protocol}|${l.address}|${l.port}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
  unique.sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port || (a.address ?? '').localeCompare(b.address ?? ''));
  return { observedAt, netns, flows: aggregateFlows(records), listening: unique };
}

async function tool(netns: string | null, command: string, args: string[]): Promise<string> {
  const result = await execTool({ netns }, command, args).catch((cause: Error) => {
    throw new ObserveError(`${cause.message} (is ${command} installed?)`);
  });
  if (result.code !== 0) throw new ObserveError(`${command} ${args.join(' ')} failed (exit ${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

/** Runs conntrack and ss (as root), in `netns` when given. */
export async function observe(netns: string | null, now: Date = new Date()): Promise<Snapshot> {
  const [conntrackText, ssText] = await Promise.all([tool(netns, 'conntrack', ['-L', '-o', 'extended']), tool(netns, 'ss', ['-tunapeH'])]);
  return snapshotFrom(conntrackText, ssText, now.toISOString(), netns);
}
