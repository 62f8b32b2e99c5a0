/**
 * The automatic control-plane failsafe (docs/fleet.md): whatever the policy says, an agent's ruleset lets it
 * reach its etcd endpoints, and a host that is an etcd member accepts etcd's client port from anywhere and
 * talks to the other members on the peer port. Addresses only (the agent resolves endpoint names), so it
 * never depends on the inventory; the compiler appends these entries to the policy's failsafe.
 */
import ipaddr from 'ipaddr.js';
import type { Host } from '../inventory/types.ts';
import type { FailsafeEntry } from '../policy/types.ts';


export interface ControlPlane {
  /** Every etcd member: its address (canonical) and client port. */
  members: Array<{ address: string; port: number }>;
  peerPort: number;
}

const tcp = (port: number, peers: string[] | null): FailsafeEntry => ({
  protocol: 'tcp',
  dport: [{ from: port, to: port }],
  sport: null,
  peers:
    peers === null
      ? null
      : peers.map((address) => {
          const family = address.includes(':') ? 6 : 4;
          return { kind: 'cidr' as const, text: address, family, cidr: `${address}/${family === 4 ? 32 : 128}` };
        }),
  origin: null,
});

/** Loopback never needs it: the base rules accept lo. */
const isLoopback = (address: string): boolean => ipaddr.parse(address).range() === 'loopback';

/** The failsafe entries the control plane adds for `host`. */
export function controlPlaneFailsafe(plane: ControlPlane, host: Host): { in: FailsafeEntry[]; out: FailsafeEntry[] } {
  const remote = plane.members.filter((m) => !isLoopback(m.address));
  const ports = [...new Set(remote.map((m) => m.port))].sort((a, b) => a - b);
  const out = ports.map((port) => tcp(port, remote.filter((m) => m.port === port).map((m) => m.address)));
  const own = new Set(Object.values(host.interfaces).flat());
  const mine = remote.filter((m) => own.has(m.address));
  if (mine.length === 0) return { in: [], out };
  /* A member: etcd clients from anywhere; the other members on the peer port, both ways. */
  const others = [...new Set(remote.map((m) => m.address).filter((a) => !own.has(a)))];
  const peers = others.length === 0 ? [] : [tcp(plane.peerPort, others)];
  const clients = [...new Set(mine.map((m) => m.port))].sort((a, b) => a - b).map((port) => tcp(port, null));
  return { in: [...clients, ...peers], out: [...out, ...peers] };
}

/** A short, stable key of the control plane (compiler caches). */
export const controlPlaneKey = (plane: ControlPlane | undefined): string => (plane === undefined ? '' : `${plane.members.map((m) => `${m.address}:${m.port}`).join(',')};${plane.peerPort}`);
