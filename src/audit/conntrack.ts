/**
 * `conntrack -L -o extended` → flow records: one per tracked connection, in its original direction (who
 * opened it). Lines look like
 * `ipv4 2 tcp 6 431998 ESTABLISHED src=10.77.0.1 dst=10.77.0.2 sport=38650 dport=9999 src=... [ASSURED] mark=0 use=1`.
 */
import { flowProtocol, hasPorts, type FlowRecord } from './flow.ts';

export interface ConntrackEntry {
  source: string;
  destination: string;
  protocol: FlowRecord['protocol'];
  sourcePort: number | null;
  port: number | null;
  /** TCP state (ESTABLISHED, TIME_WAIT...); null for other protocols. */
  state: string | null;
}

export function parseConntrackLine(line: string): ConntrackEntry | null {
  const tokens = line.trim().split(/\s+/);
  if (tokens.length < 6 || (tokens[0] !== 'ipv4' && tokens[0] !== 'ipv6')) return null;
  const protocol = flowProtocol(tokens[2] as string);
  if (protocol === null) return null;
  const first = new Map<string, string>();
  let state: string | null = null;
  for (const token of tokens.slice(5)) {
    const eq = token.indexOf('=');
    if (eq === -1) {
      if (state === null && /^[A-Z_]+$/.test(token) && first.size === 0) state = token;
      continue;
    }
    const key = token.slice(0, eq);
    if (first.has(key)) continue;
    first.set(key, token.slice(eq + 1));
  }
  const source = first.get('src');
  const destination = first.get('dst');
  if (source === undefined || destination === undefined) return null;
  const port = (key: string): number | null => (hasPorts(protocol) && first.has(key) ? Number(first.get(key)) : null);
  return { source, destination, protocol, sourcePort: port('sport'), port: port('dport'), state };
}

export function parseConntrack(text: string): ConntrackEntry[] {
  return text.split('\n').flatMap((line) => {
    const entry = parseConntrackLine(line);
    return entry === null ? [] : [entry];
  });
}
