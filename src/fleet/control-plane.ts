/**
 * The fleet's control plane for the automatic failsafe (src/compile/control-plane.ts): the etcd endpoints of
 * an etcd:// location as addresses, names resolved once (every address of each).
 */
import ipaddr from 'ipaddr.js';
import type { ControlPlane } from '../compile/control-plane.ts';
import { DEFAULT_ETCD_PEER_PORT } from '../defaults.ts';
import { systemLookup } from '../resolve/dns.ts';

function canonical(text: string): string | null {
  const bare = text.replace(/^\[|\]$/g, '');
  if (!ipaddr.isValid(bare)) return null;
  const parsed = ipaddr.parse(bare);
  return parsed.kind() === 'ipv4' ? parsed.toString() : (parsed as ipaddr.IPv6).toRFC5952String();
}

/** The control plane of `host:port` endpoints; names are resolved (every address of each). */
export async function controlPlaneOf(endpoints: readonly string[], peerPort = DEFAULT_ETCD_PEER_PORT, resolve = systemLookup): Promise<ControlPlane> {
  const members: ControlPlane['members'] = [];
  for (const endpoint of endpoints) {
    const colon = endpoint.lastIndexOf(':');
    const host = endpoint.slice(0, colon);
    const port = Number(endpoint.slice(colon + 1));
    const literal = canonical(host);
    const addresses = literal !== null ? [literal] : (await resolve(host, { all: true })).map((a) => canonical(a.address)).filter((a): a is string => a !== null);
    for (const address of addresses) if (!members.some((m) => m.address === address && m.port === port)) members.push({ address, port });
  }
  return { members, peerPort };
}
