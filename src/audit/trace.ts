/**
 * `palisade trace`: one real packet, traced by nftables. A separate `table inet palisade_trace` (palisade's
 * own table is never touched) gets a chain at priority -350 (before everything) on output in the source
 * namespace and on prerouting in the destination namespace, marking only the flow's packets with
 * `meta nftrace set 1` (the mark does not survive crossing namespaces, so each end marks its own).
 * `nft monitor trace` runs in each while the source sends one packet (by `send`: the lab's probe agent, i.e.
 * palisade itself, so no other program is needed); the trace table is deleted afterwards whatever happens.
 * Needs root and the nft backend.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { isIPv4, isIPv6 } from 'node:net';
import { execTool } from '../kernel/exec.ts';
import { NFT_TABLE } from '../layout.ts';
import { decisions, parseTrace, type TraceDecision, type TraceEvent } from './trace-events.ts';
import { OperationError } from '../diagnostics.ts';

export const TRACE_TABLE = `${NFT_TABLE}_trace`;

export interface TraceRequest {
  sourceNetns: string;
  destinationNetns: string | null;
  sourceAddress: string;
  destinationAddress: string;
  protocol: 'tcp' | 'udp';
  port: number;
  timeoutMs: number;
  /** Send as this uid (outbound rules are per user); null: as root. */
  uid: number | null;
}

export interface TraceEnd {
  netns: string;
  events: TraceEvent[];
  decision: TraceDecision | null;
}

export interface TraceResult {
  request: TraceRequest;
  /** What the sending socket saw: connected, refused, timeout, sent (udp). */
  outcome: string;
  ends: TraceEnd[];
}

export class TraceError extends OperationError {
  override readonly name = 'TraceError';
}

async function nft(netns: string, script: string): Promise<void> {
  const result = await execTool({ netns }, 'nft', ['-f', '-'], script);
  if (result.code !== 0) throw new TraceError(`nft in ${netns}: ${result.stderr.trim()}`);
}

/** The trace table's script: mark the flow's packets at `hook` (output at the source, prerouting at the destination). */
export function traceTable(request: TraceRequest, hook: 'output' | 'prerouting'): string {
  const family = isIPv6(request.destinationAddress) ? 'ip6' : 'ip';
  const match = `${family} saddr ${request.sourceAddress} ${family} daddr ${request.destinationAddress} ${request.protocol} dport ${request.port}`;
  return [
    `table inet ${TRACE_TABLE} {`,
    `\tchain trace_${hook} {`,
    `\t\ttype filter hook ${hook} priority -350; policy accept;`,
    `\t\t${match} meta nftrace set 1`,
    '\t}',
    '}',
    '',
  ].join('\n');
}

function monitor(netns: string): { child: ChildProcess; text: () => string } {
  const child = spawn('ip', ['netns', 'exec', netns, 'nft', 'monitor', 'trace'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (text += d));
  child.on('error', () => undefined);
  return { child, text: () => text };
}

/** What became of the packet, as the sending socket saw it (passed: connected, or a UDP answer came back). */
export interface Sent {
  outcome: 'passed' | 'timeout' | 'blocked' | 'refused' | 'unreachable' | 'error';
  detail: string;
}

/** Sends the request's one packet from its source namespace, as its uid. */
export type Send = (request: TraceRequest) => Promise<Sent>;

/**
 * The outcome in words: connected, refused (a reset or port unreachable), unreachable (an ICMP unreachable: a
 * reject's administratively prohibited), timeout (tcp), sent (udp, no answer), blocked (the source's own kernel refused to send).
 */
export function outcomeWords(request: TraceRequest, sent: Sent): string {
  switch (sent.outcome) {
    case 'passed':
      return request.protocol === 'tcp' ? 'connected' : 'answered';
    case 'timeout':
      return request.protocol === 'tcp' ? 'timeout' : 'sent, no answer';
    case 'blocked':
    case 'refused':
      return sent.outcome;
    case 'unreachable':
      return `unreachable (${sent.detail})`;
    case 'error':
      return `error ${sent.detail}`;
  }
}

export async function trace(request: TraceRequest, send: Send): Promise<TraceResult> {
  if (!(isIPv4(request.sourceAddress) || isIPv6(request.sourceAddress)) || !(isIPv4(request.destinationAddress) || isIPv6(request.destinationAddress))) {
    throw new TraceError('trace needs the source and destination addresses');
  }
  const ends: Array<{ netns: string; hook: 'output' | 'prerouting' }> = [{ netns: request.sourceNetns, hook: 'output' }];
  if (request.destinationNetns !== null && request.destinationNetns !== request.sourceNetns) ends.push({ netns: request.destinationNetns, hook: 'prerouting' });
  const monitors: Array<ReturnType<typeof monitor>> = [];
  try {
    for (const end of ends) await nft(end.netns, traceTable(request, end.hook));
    for (const end of ends) monitors.push(monitor(end.netns));
    await sleep(300);
    const outcome = outcomeWords(request, await send(request));
    await sleep(300);
    return {
      request,
      outcome,
      ends: ends.map((end, i) => {
        const events = parseTrace(monitors[i]?.text() ?? '');
        return { netns: end.netns, events, decision: decisions(events, NFT_TABLE)[0] ?? null };
      }),
    };
  } finally {
    for (const m of monitors) m.child.kill();
    for (const end of ends) await execTool({ netns: end.netns }, 'nft', ['delete', 'table', 'inet', TRACE_TABLE]).catch(() => undefined);
  }
}

/** A drop is silent (the sender times out); a reject answers (TCP reset, ICMP unreachable: refused at once). */
const VERDICT_WORDS: Record<string, string> = {
  accept: 'accepted',
  drop: 'dropped (silently: the sender waits for its timeout)',
  reject: 'rejected (answered with a TCP reset or ICMP unreachable: refused at once)',
};

export function formatTrace(result: TraceResult): string {
  const r = result.request;
  const lines = [`${r.sourceAddress} -> ${r.destinationAddress} ${r.protocol}/${r.port}${r.uid === null ? '' : ` as uid ${r.uid}`}: ${result.outcome}`];
  for (const [i, end] of result.ends.entries()) {
    const side = i === 0 ? 'out' : 'in';
    const d = end.decision;
    if (d === null) lines.push(`  ${side} in ${end.netns}: no palisade chain decided (no ruleset loaded, or the packet never got there)`);
    else lines.push(`  ${side} in ${end.netns}: ${VERDICT_WORDS[d.verdict] ?? d.verdict} in chain ${d.chain} by ${d.rule === null ? 'the chain policy' : `rule: ${d.rule}`}`);
  }
  return `${lines.join('\n')}\n`;
}
