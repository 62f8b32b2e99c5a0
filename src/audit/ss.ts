/**
 * `ss -tunapeH` (or `-tulpneH`) → sockets: protocol, state, local and peer address and port, owning uid
 * and process. Lines look like
 * `tcp ESTAB 0 0 10.77.0.1:34630 10.77.0.2:9999 users:(("python3",pid=32585,fd=3)) uid:4200 ino:292350 ...`;
 * addresses may be `[v6]:port`, `*:port`, or carry an interface (`10.0.0.1%eth0:53`).
 */
export interface SocketEntry {
  protocol: 'tcp' | 'udp';
  state: string;
  localAddress: string;
  localPort: number | null;
  peerAddress: string | null;
  peerPort: number | null;
  uid: number | null;
  process: string | null;
}

/** `10.0.0.1:80`, `[2001:db8::1]:80`, `*:*`, `10.0.0.1%eth0:53` → address (null for `*`) and port (null for `*`). */
export function splitEndpoint(text: string): { address: string | null; port: number | null } | null {
  const colon = text.lastIndexOf(':');
  if (colon === -1) return null;
  let address = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  address = address.replace(/%.*$/, '');
  if (address.startsWith('::ffff:') && address.includes('.')) address = address.slice('::ffff:'.length);
  const port = portText === '*' ? null : Number(portText);
  if (port !== null && !Number.isInteger(port)) return null;
  return { address: address === '*' || address === '0.0.0.0' || address === '::' ? null : address, port };
}

export function parseSsLine(line: string): SocketEntry | null {
  const tokens = line.trim().split(/\s+/);
  const protocol = tokens[0];
  if ((protocol !== 'tcp' && protocol !== 'udp') || tokens.length < 6) return null;
  const local = splitEndpoint(tokens[4] as string);
  const peer = splitEndpoint(tokens[5] as string);
  if (local === null || peer === null) return null;
  const rest = tokens.slice(6).join(' ');
  const uid = /\buid:(\d+)/.exec(rest)?.[1];
  const process = /users:\(\("([^"]*)"/.exec(rest)?.[1];
  return {
    protocol,
    state: tokens[1] as string,
    localAddress: local.address ?? '*',
    localPort: local.port,
    peerAddress: peer.address,
    peerPort: peer.port,
    uid: uid === undefined ? null : Number(uid),
    process: process ?? null,
  };
}

export function parseSs(text: string): SocketEntry[] {
  return text.split('\n').flatMap((line) => {
    const entry = parseSsLine(line);
    return entry === null ? [] : [entry];
  });
}

/** Listening: a TCP LISTEN socket or a UDP socket with no peer. */
export const isListening = (s: SocketEntry): boolean => s.state === 'LISTEN' || (s.protocol === 'udp' && s.peerAddress === null && s.state === 'UNCONN');
