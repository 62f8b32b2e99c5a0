/** The one parser of a flow's port as people type it: `443`, `443/tcp`, `domain/udp`, `icmp`, `vrrp` (explain, trace, lab probe --port). */
import { UsageError } from '../diagnostics.ts';
import { parsePorts } from '../policy/ports.ts';
import { PROTOCOLS, type Protocol } from '../policy/types.ts';

export interface PortSpec {
  protocol: Exclude<Protocol, 'all'>;
  /** null for a protocol without ports (icmp, vrrp, ...). */
  port: number | null;
}

/** One port, as a number or a service name; `what` names the argument in the error. */
export function parseSinglePort(text: string, what: string): number {
  let ranges;
  try {
    ranges = parsePorts(text);
  } catch (cause) {
    throw new UsageError(`${what} "${text}": ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  const [range] = ranges;
  if (ranges.length !== 1 || range === undefined || range.from !== range.to) throw new UsageError(`${what} "${text}" must be one port`);
  return range.from;
}

/** PORT[/tcp|udp] (tcp by default), or a protocol without ports. */
export function parsePortSpec(spec: string): PortSpec {
  const [portText, protocolText] = spec.split('/') as [string, string | undefined];
  if (protocolText === undefined && PROTOCOLS.includes(portText as Protocol)) {
    if (portText === 'all' || portText === 'tcp' || portText === 'udp') throw new UsageError(`"${spec}": give a port, as in 443/${portText === 'all' ? 'tcp' : portText}`);
    return { protocol: portText as Exclude<Protocol, 'all'>, port: null };
  }
  const protocol = protocolText ?? 'tcp';
  if (protocol !== 'tcp' && protocol !== 'udp') throw new UsageError(`"${spec}": a port goes with tcp or udp, not ${protocol}`);
  return { protocol, port: parseSinglePort(portText, 'port') };
}

/** A tcp or udp port spec (what a socket can send to); `what` words the refusal. */
export function parseSocketPort(spec: string, what: string): { protocol: 'tcp' | 'udp'; port: number } {
  const { protocol, port } = parsePortSpec(spec);
  if ((protocol !== 'tcp' && protocol !== 'udp') || port === null) throw new UsageError(`${what}: "${spec}" is not a tcp or udp port`);
  return { protocol, port };
}
