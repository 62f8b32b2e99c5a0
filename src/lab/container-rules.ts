/**
 * The iptables rules a container runtime writes, as `iptables-save` shows them on a host, so the lab (and its
 * tests) can reproduce a Docker host or a kube-proxy node without the runtime: Docker Engine's layout (nat
 * PREROUTING/OUTPUT to DOCKER with the DNAT per published port, POSTROUTING MASQUERADE; filter FORWARD through
 * DOCKER-USER, the isolation stages and DOCKER's accept per published port, FORWARD policy DROP), and kube-proxy's
 * iptables mode (KUBE-SERVICES, KUBE-NODEPORTS, KUBE-EXT-/KUBE-SVC-/KUBE-SEP- chains, the masquerade mark, filter
 * KUBE-FORWARD). Pure text; the chain names and hashes are what the runtimes would write for these inputs'
 * shapes, not their exact hashes. docs/containers.md says which layouts are covered.
 */
import { createHash } from 'node:crypto';
import { LabError } from './state.ts';

export interface PublishedPort {
  protocol: 'tcp' | 'udp';
  /** The port on the host's addresses. */
  host: number;
  /** The port in the container (or pod). */
  container: number;
}

export interface DockerContainer {
  address: string;
  ports: PublishedPort[];
}

export interface DockerNetwork {
  /** docker0 for the default bridge, br-<12 hex> for a user-defined network. */
  bridge: string;
  /** The network, e.g. 172.17.0.0/16. */
  subnet: string;
  containers: DockerContainer[];
}

export interface NodePortService {
  /** namespace/name:port, as kube-proxy's comments say it. */
  name: string;
  protocol: 'tcp' | 'udp';
  nodePort: number;
  clusterIp: string;
  port: number;
  /** The pod behind the service. */
  endpoint: { address: string; port: number };
}

const SAFE = /^[A-Za-z0-9_./:-]{1,64}$/;
function checked(what: string, text: string): string {
  if (!SAFE.test(text)) throw new LabError(`${what} ${JSON.stringify(text)} cannot go into an iptables-save file`);
  return text;
}
const port = (n: number): number => {
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new LabError(`port ${n} is not 1-65535`);
  return n;
};

/** `iptables-save` of a Docker host's nat and filter tables (Docker Engine 20.10 to 27, iptables-nft). */
export function dockerIptablesSave(networks: readonly DockerNetwork[]): string {
  for (const n of networks) {
    checked('bridge', n.bridge);
    checked('subnet', n.subnet);
    for (const c of n.containers) {
      checked('address', c.address);
      for (const p of c.ports) for (const n of [p.host, p.container]) port(n);
    }
  }
  const nat = ['*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', ':DOCKER - [0:0]'];
  nat.push('-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER', '-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER');
  for (const n of networks) nat.push(`-A POSTROUTING -s ${checked('subnet', n.subnet)} ! -o ${checked('bridge', n.bridge)} -j MASQUERADE`);
  for (const n of networks) {
    for (const c of n.containers) {
      for (const p of c.ports) {
        nat.push(`-A POSTROUTING -s ${checked('address', c.address)}/32 -d ${c.address}/32 -p ${p.protocol} -m ${p.protocol} --dport ${port(p.container)} -j MASQUERADE`);
      }
    }
  }
  for (const n of networks) nat.push(`-A DOCKER -i ${n.bridge} -j RETURN`);
  for (const n of networks) {
    for (const c of n.containers) {
      for (const p of c.ports) nat.push(`-A DOCKER ! -i ${n.bridge} -p ${p.protocol} -m ${p.protocol} --dport ${port(p.host)} -j DNAT --to-destination ${c.address}:${p.container}`);
    }
  }
  nat.push('COMMIT');
  const filter = [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD DROP [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':DOCKER - [0:0]',
    ':DOCKER-ISOLATION-STAGE-1 - [0:0]',
    ':DOCKER-ISOLATION-STAGE-2 - [0:0]',
    ':DOCKER-USER - [0:0]',
    '-A FORWARD -j DOCKER-USER',
    '-A FORWARD -j DOCKER-ISOLATION-STAGE-1',
  ];
  for (const n of networks) {
    filter.push(
      `-A FORWARD -o ${n.bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
      `-A FORWARD -o ${n.bridge} -j DOCKER`,
      `-A FORWARD -i ${n.bridge} ! -o ${n.bridge} -j ACCEPT`,
      `-A FORWARD -i ${n.bridge} -o ${n.bridge} -j ACCEPT`,
    );
  }
  for (const n of networks) {
    for (const c of n.containers) {
      for (const p of c.ports) filter.push(`-A DOCKER -d ${c.address}/32 ! -i ${n.bridge} -o ${n.bridge} -p ${p.protocol} -m ${p.protocol} --dport ${p.container} -j ACCEPT`);
    }
  }
  for (const n of networks) filter.push(`-A DOCKER-ISOLATION-STAGE-1 -i ${n.bridge} ! -o ${n.bridge} -j DOCKER-ISOLATION-STAGE-2`);
  filter.push('-A DOCKER-ISOLATION-STAGE-1 -j RETURN');
  for (const n of networks) filter.push(`-A DOCKER-ISOLATION-STAGE-2 -o ${n.bridge} -j DROP`);
  filter.push('-A DOCKER-ISOLATION-STAGE-2 -j RETURN', '-A DOCKER-USER -j RETURN', 'COMMIT');
  return `${[...nat, ...filter].join('\n')}\n`;
}

/** kube-proxy's chain suffix: the first 16 base32 characters of a SHA-256, as its servicePortChainName makes them. */
function kubeChain(prefix: string, ...parts: string[]): string {
  const hash = createHash('sha256').update(parts.join('')).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of hash) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 16) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return `${prefix}${out}`;
}

/** `iptables-save` of a kube-proxy node (iptables mode, Kubernetes 1.28+) with NodePort services. */
export function kubeProxyIptablesSave(services: readonly NodePortService[]): string {
  for (const s of services) {
    checked('service', s.name);
    checked('address', s.clusterIp);
    checked('address', s.endpoint.address);
    for (const n of [s.nodePort, s.port, s.endpoint.port]) port(n);
  }
  const chains = services.map((s) => ({
    s,
    svc: kubeChain('KUBE-SVC-', checked('service', s.name), s.protocol),
    ext: kubeChain('KUBE-EXT-', s.name, s.protocol),
    sep: kubeChain('KUBE-SEP-', s.name, s.protocol, checked('address', s.endpoint.address)),
  }));
  const nat = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':KUBE-MARK-MASQ - [0:0]',
    ':KUBE-NODEPORTS - [0:0]',
    ':KUBE-POSTROUTING - [0:0]',
    ':KUBE-SERVICES - [0:0]',
    ...chains.flatMap((c) => [`:${c.ext} - [0:0]`, `:${c.sep} - [0:0]`, `:${c.svc} - [0:0]`]),
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
    ...chains.map(({ s, ext }) => `-A KUBE-NODEPORTS -p ${s.protocol} -m comment --comment "${s.name}" -m ${s.protocol} --dport ${port(s.nodePort)} -j ${ext}`),
    '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0',
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    ...chains.map(({ s, svc }) => `-A KUBE-SERVICES -d ${checked('address', s.clusterIp)}/32 -p ${s.protocol} -m comment --comment "${s.name} cluster IP" -m ${s.protocol} --dport ${port(s.port)} -j ${svc}`),
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
    ...chains.flatMap(({ s, ext, svc, sep }) => [
      `-A ${ext} -m comment --comment "masquerade traffic for ${s.name} external destinations" -j KUBE-MARK-MASQ`,
      `-A ${ext} -j ${svc}`,
      `-A ${sep} -s ${s.endpoint.address}/32 -m comment --comment "${s.name}" -j KUBE-MARK-MASQ`,
      `-A ${sep} -p ${s.protocol} -m comment --comment "${s.name}" -m ${s.protocol} -j DNAT --to-destination ${s.endpoint.address}:${port(s.endpoint.port)}`,
      `-A ${svc} -m comment --comment "${s.name} -> ${s.endpoint.address}:${s.endpoint.port}" -j ${sep}`,
    ]),
    'COMMIT',
  ];
  const filter = [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':FORWARD ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':KUBE-EXTERNAL-SERVICES - [0:0]',
    ':KUBE-FORWARD - [0:0]',
    ':KUBE-NODEPORTS - [0:0]',
    ':KUBE-PROXY-FIREWALL - [0:0]',
    ':KUBE-SERVICES - [0:0]',
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS',
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL',
    '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A FORWARD -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES',
    '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT',
    '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    'COMMIT',
  ];
  return `${[...nat, ...filter].join('\n')}\n`;
}

/**
 * `nft list table ip kube-proxy` of a kube-proxy node in nftables mode (Kubernetes 1.31+) with NodePort services:
 * the `services` chain's verdict maps (cluster IPs, and NodePorts on local addresses), a service chain choosing an
 * endpoint chain that DNATs, the masquerade mark. Chain names follow kube-proxy's shape without its `/` separators.
 */
export function kubeProxyNftables(services: readonly NodePortService[]): string {
  const named = services.map((s) => {
    checked('service', s.name);
    checked('address', s.clusterIp);
    checked('address', s.endpoint.address);
    for (const n of [s.nodePort, s.port, s.endpoint.port]) port(n);
    const id = kubeChain('', s.name, s.protocol).slice(0, 8);
    const base = s.name.replace(/[^A-Za-z0-9]+/g, '-');
    return { s, service: `service-${id}-${base}`, external: `external-${id}-${base}`, endpoint: `endpoint-${kubeChain('', s.name, s.endpoint.address).slice(0, 8)}-${base}` };
  });
  const lines = [
    'table ip kube-proxy {',
    '\tcomment "rules for kube-proxy"',
    '\tmap service-ips {',
    '\t\ttype ipv4_addr . inet_proto . inet_service : verdict',
    ...(named.length === 0 ? [] : [`\t\telements = { ${named.map(({ s, service }) => `${s.clusterIp} . ${s.protocol} . ${s.port} : goto ${service}`).join(', ')} }`]),
    '\t}',
    '\tmap service-nodeports {',
    '\t\ttype inet_proto . inet_service : verdict',
    ...(named.length === 0 ? [] : [`\t\telements = { ${named.map(({ s, external }) => `${s.protocol} . ${s.nodePort} : goto ${external}`).join(', ')} }`]),
    '\t}',
    '\tchain nat-prerouting {',
    '\t\ttype nat hook prerouting priority dstnat; policy accept;',
    '\t\tjump services',
    '\t}',
    '\tchain nat-output {',
    '\t\ttype nat hook output priority -100; policy accept;',
    '\t\tjump services',
    '\t}',
    '\tchain nat-postrouting {',
    '\t\ttype nat hook postrouting priority srcnat; policy accept;',
    '\t\tjump masquerading',
    '\t}',
    '\tchain masquerading {',
    '\t\tmeta mark & 0x00004000 == 0x00000000 return',
    '\t\tmeta mark set meta mark ^ 0x00004000',
    '\t\tmasquerade fully-random',
    '\t}',
    '\tchain mark-for-masquerade {',
    '\t\tmeta mark set meta mark | 0x00004000',
    '\t}',
    '\tchain services {',
    '\t\tip daddr . meta l4proto . th dport vmap @service-ips',
    '\t\tfib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports',
    '\t}',
    ...named.flatMap(({ s, service, external, endpoint }) => [
      `\tchain ${service} {`,
      `\t\tnumgen random mod 1 vmap { 0 : goto ${endpoint} }`,
      '\t}',
      `\tchain ${external} {`,
      '\t\tjump mark-for-masquerade',
      `\t\tgoto ${service}`,
      '\t}',
      `\tchain ${endpoint} {`,
      `\t\tip saddr ${s.endpoint.address} jump mark-for-masquerade`,
      `\t\tmeta l4proto ${s.protocol} dnat to ${s.endpoint.address}:${s.endpoint.port}`,
      '\t}',
    ]),
    '}',
  ];
  return `${lines.join('\n')}\n`;
}
