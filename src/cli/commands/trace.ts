/** `palisade trace`: one real packet through the lab's (or given) namespaces, and what decided it on each end. */
import { formatTrace, trace, TraceError, type Send, type TraceRequest } from '../../audit/trace.ts';
import { loadInventory } from '../../app/inventory.ts';
import type { Host } from '../../inventory/types.ts';
import { probeOnce } from '../../lab/probe-run.ts';
import { checkLabName, readState } from '../../lab/state.ts';
import type { Output } from '../output.ts';
import { UsageError } from '../../diagnostics.ts';
import { parseSocketPort } from '../../app/port-spec.ts';

export interface TraceOptions {
  lab?: string;
  netns?: string;
  dstNetns?: string;
  user?: string;
  timeout: string;
}

const lanAddress = (host: Host, family: 4 | 6): string | undefined => host.addresses[family === 4 ? 'v4' : 'v6'][0];

type Ends = Pick<TraceRequest, 'sourceNetns' | 'destinationNetns' | 'sourceAddress' | 'destinationAddress' | 'uid'>;

/** Namespaces and addresses of two lab hosts, from the lab's state and the inventory it was built from; `user` is the source host's. */
async function labEnds(lab: string, src: string, dst: string, user: string | undefined): Promise<Ends> {
  const state = await readState(checkLabName(lab));
  if (state === null) throw new TraceError(`lab ${lab} is not up: run \`palisade lab up --lab ${lab}\` first`);
  const inventory = await loadInventory(state.inventory, { cwd: process.cwd() });
  const find = (name: string): { host: Host; netns: string } => {
    const host = inventory.hosts.find((h) => h.name === name);
    const labHost = state.hosts.find((h) => h.host === name);
    if (host === undefined || labHost === undefined) throw new TraceError(`"${name}" is not a host of lab ${lab}`);
    return { host, netns: labHost.namespace };
  };
  const s = find(src);
  const d = find(dst);
  const family = ([4, 6] as const).find((f) => lanAddress(s.host, f) !== undefined && lanAddress(d.host, f) !== undefined);
  if (family === undefined) throw new TraceError(`${src} and ${dst} have no address of a common family`);
  const uid = user === undefined ? null : s.host.users[user];
  if (uid === undefined) throw new TraceError(`user "${user}" does not exist on ${src}`);
  return { sourceNetns: s.netns, destinationNetns: d.netns, sourceAddress: lanAddress(s.host, family) as string, destinationAddress: lanAddress(d.host, family) as string, uid };
}

/** The packet comes from the lab's probe agent: palisade itself, run again in the source namespace (also from the single executable). */
export const sendByProbeAgent: Send = (r) =>
  probeOnce(r.sourceNetns, r.uid ?? 0, { op: 'connect', protocol: r.protocol, address: r.destinationAddress, port: r.port, localAddress: r.sourceAddress, localPort: null, timeoutMs: r.timeoutMs });

function numericUid(user: string | undefined): number | null {
  if (user === undefined) return null;
  if (!/^\d+$/.test(user)) throw new UsageError(`--user ${user}: without --lab, give a numeric uid`);
  return Number(user);
}

export async function traceCommand(src: string, dst: string, spec: string, options: TraceOptions, output: Output): Promise<number> {
  const { protocol, port } = parseSocketPort(spec, 'trace sends a tcp or udp packet');
  const timeoutMs = Number(options.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100) throw new UsageError(`--timeout ${options.timeout}: expected milliseconds, at least 100`);
  if (process.getuid?.() !== 0) throw new TraceError('trace needs root (it loads a trace table and sends a packet in namespaces)');
  let ends: Ends;
  if (options.lab !== undefined) ends = await labEnds(options.lab, src, dst, options.user);
  else if (options.netns !== undefined) {
    ends = { sourceNetns: options.netns, destinationNetns: options.dstNetns ?? null, sourceAddress: src, destinationAddress: dst, uid: numericUid(options.user) };
  } else throw new UsageError('trace needs --lab NAME, or --netns for the source namespace (and --dst-netns)');
  const result = await trace({ ...ends, protocol, port, timeoutMs }, sendByProbeAgent);
  output.out(formatTrace(result));
  return 0;
}
