import ipaddr from 'ipaddr.js';
import { explainFlow, formatExplanation, ExplainError } from '../../explain/flow.ts';
import { parsePortSpec, parseSinglePort } from '../../app/port-spec.ts';
import type { ConfigOverrides } from '../../app/config.ts';
import { toJson, type Output } from '../output.ts';
import { UsageError } from '../../diagnostics.ts';
import { loadWorkspace } from '../../app/workspace.ts';
import { EXIT } from '../../exit-codes.ts';

export interface ExplainOptions extends ConfigOverrides {
  user?: string;
  service?: string;
  family?: '4' | '6';
  sport?: string;
  format: 'text' | 'json';
  /** Exit EXIT.attention when the flow is denied (for scripts and monitoring). */
  exitCode?: boolean;
  /** ADDRESS:PORT: the destination publishes the port by DNAT to this container (Docker, kube-proxy). */
  dnat?: string;
}

/** `172.17.0.2:5432` or `[fd00::2]:5432`. */
function parseDnat(text: string): { address: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d{1,5})$/.exec(text);
  const address = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (address === undefined || !ipaddr.isValid(address) || (match?.[1] !== undefined) !== address.includes(':') || port < 1 || port > 65535) {
    throw new UsageError(`--dnat ${JSON.stringify(text)}: expected the container's ADDRESS:PORT, e.g. 172.17.0.2:5432 or [fd00::2]:5432`);
  }
  return { address: ipaddr.parse(address).toString(), port };
}

export async function explainCommand(source: string, destination: string, spec: string, options: ExplainOptions, output: Output): Promise<number> {
  const { protocol, port } = parsePortSpec(spec);
  const sourcePort = options.sport === undefined ? null : parseSinglePort(options.sport, '--sport');
  const dnat = options.dnat === undefined ? null : parseDnat(options.dnat);
  const ws = await loadWorkspace(options);
  try {
    const explanation = explainFlow(ws.compiler, ws.inventory.hosts, {
      source,
      destination,
      protocol,
      port,
      sourcePort,
      user: options.user ?? null,
      service: options.service ?? null,
      family: options.family === undefined ? null : (Number(options.family) as 4 | 6),
      dnat,
    });
    output.out(options.format === 'json' ? toJson(explanation) : formatExplanation(explanation));
    return options.exitCode === true && !explanation.allowed ? EXIT.attention : EXIT.ok;
  } catch (cause) {
    if (cause instanceof ExplainError) throw new UsageError(cause.message);
    throw cause;
  }
}
