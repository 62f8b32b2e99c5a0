import { explainFlow, formatExplanation, ExplainError } from '../../explain/flow.ts';
import { PROTOCOLS, type Protocol } from '../../policy/types.ts';
import { parsePorts } from '../../policy/ports.ts';
import type { ConfigOverrides } from '../../app/config.ts';
import { toJson, type Output } from '../output.ts';
import { UsageError } from '../../diagnostics.ts';
import { loadWorkspace } from '../../app/workspace.ts';

export interface ExplainOptions extends ConfigOverrides {
  user?: string;
  family?: '4' | '6';
  sport?: string;
  format: 'text' | 'json';
}

function singlePort(text: string, what: string): number {
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

/** `443`, `443/tcp`, `domain/udp`, `icmp`, `vrrp`. */
export function parsePortSpec(spec: string): { protocol: Exclude<Protocol, 'all'>; port: number | null } {
  const [portText, protocolText] = spec.split('/') as [string, string | undefined];
  if (protocolText === undefined && PROTOCOLS.includes(portText as Protocol)) {
    if (portText === 'all' || portText === 'tcp' || portText === 'udp') throw new UsageError(`"${spec}": give a port, as in 443/${portText === 'all' ? 'tcp' : portText}`);
    return { protocol: portText as Exclude<Protocol, 'all'>, port: null };
  }
  const protocol = protocolText ?? 'tcp';
  if (protocol !== 'tcp' && protocol !== 'udp') throw new UsageError(`"${spec}": a port goes with tcp or udp, not ${protocol}`);
  return { protocol, port: singlePort(portText, 'port') };
}

export async function explainCommand(source: string, destination: string, spec: string, options: ExplainOptions, output: Output): Promise<number> {
  const { protocol, port } = parsePortSpec(spec);
  const sourcePort = options.sport === undefined ? null : singlePort(options.sport, '--sport');
  const ws = await loadWorkspace(options);
  try {
    const explanation = explainFlow(ws.compiler, ws.inventory.hosts, {
      source,
      destination,
      protocol,
      port,
      sourcePort,
      user: options.user ?? null,
      family: options.family === undefined ? null : (Number(options.family) as 4 | 6),
    });
    output.out(options.format === 'json' ? toJson(explanation) : formatExplanation(explanation));
    return 0;
  } catch (cause) {
    if (cause instanceof ExplainError) throw new UsageError(cause.message);
    throw cause;
  }
}
