/**
 * A container behind a lab host: a network namespace of its own whose `eth0` is one end of a veth pair, the
 * other end a port of a bridge (docker0, cni0...) inside the host's namespace, with the host forwarding; and the
 * runtime's iptables rules (./container-rules.ts) loaded into the host's namespace as the runtime writes them,
 * with `iptables-restore --noflush`, so that they can come before or after palisade's, as on a real host.
 */
import { addNamespace, ipBatch, sysctl } from './namespaces.ts';
import { run } from './command.ts';

export interface ContainerSpec {
  /** The container's namespace (unique per run: the caller deletes it). */
  namespace: string;
  /** The bridge in the host's namespace, created with `gateway` on it if missing. */
  bridge: string;
  /** The bridge's address with its prefix, e.g. 172.17.0.1/16: the container's default gateway. */
  gateway: string;
  /** The container's address with its prefix, e.g. 172.17.0.2/16. */
  address: string;
}

const bare = (cidr: string): string => cidr.slice(0, cidr.indexOf('/'));

/** Creates the container's namespace behind the bridge of `host` (a namespace), and turns forwarding on there. */
export async function addContainer(host: string, spec: ContainerSpec, veth: string): Promise<void> {
  await sysctl(host, { 'net.ipv4.ip_forward': '1' });
  const links = await run('ip', ['-n', host, '-o', 'link', 'show']);
  const hasBridge = links.split('\n').some((line) => line.split(': ')[1]?.split('@')[0] === spec.bridge);
  if (!hasBridge) await ipBatch(host, [`link add ${spec.bridge} type bridge`, `addr add ${spec.gateway} dev ${spec.bridge}`, `link set ${spec.bridge} up`]);
  await addNamespace(spec.namespace);
  await ipBatch(host, [`link add ${veth} type veth peer name eth0 netns ${spec.namespace}`, `link set ${veth} master ${spec.bridge}`, `link set ${veth} up`]);
  await ipBatch(spec.namespace, ['link set lo up', `addr add ${spec.address} dev eth0`, 'link set eth0 up', `route add default via ${bare(spec.gateway)}`]);
}

/** Loads a runtime's `iptables-save` text into the host's namespace as the runtime does: beside what is there. */
export async function loadRuntimeRules(host: string, saved: string): Promise<void> {
  await run('ip', ['netns', 'exec', host, 'iptables-restore', '--noflush'], saved);
}
