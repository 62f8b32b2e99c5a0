/**
 * A container behind a lab host: a network namespace of its own whose `eth0` is one end of a veth pair, the
 * other end a port of a bridge (docker0, cni0...) inside the host's namespace, with the host forwarding; and the
 * runtime's iptables rules (./container-rules.ts) loaded into the host's namespace as the runtime writes them,
 * with `iptables-restore --noflush`, so that they can come before or after palisade's, as on a real host.
 */
import type { Workspace } from '../app/workspace.ts';
import { explainFlow } from '../explain/flow.ts';
import { addNamespace, ipBatch, sysctl } from './namespaces.ts';
import { run } from './command.ts';
import { dockerIptablesSave, kubeProxyIptablesSave } from './container-rules.ts';
import type { Outcome } from './probe-agent.ts';
import { Agent } from './probe-run.ts';
import { LabError, writeState, type LabContainer, type LabState } from './state.ts';
import type { Log } from './topology.ts';

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

/** Loads a runtime's nftables table (kube-proxy's nftables mode) into the host's namespace. */
export async function loadRuntimeNftables(host: string, script: string): Promise<void> {
  await run('ip', ['netns', 'exec', host, 'nft', '-f', '-'], script);
}

const RUNTIMES = {
  docker: { bridge: 'docker0', gateway: '172.17.0.1/16', address: '172.17.0.2/16' },
  nodeport: { bridge: 'cni0', gateway: '10.244.0.1/24', address: '10.244.0.5/24' },
} as const;

/**
 * `lab container`: one container (Docker) or pod (a kube-proxy NodePort) behind a lab host, its ports published by
 * the runtime's rules as the runtime writes them. Recorded in the lab's state before it is made, so `lab down`
 * removes it with the lab.
 */
export async function labContainerAdd(state: LabState, hostName: string, runtime: LabContainer['runtime'], ports: LabContainer['ports'], log: Log): Promise<LabContainer> {
  const host = state.hosts.find((h) => h.host === hostName);
  if (host === undefined) throw new LabError(`host ${hostName} is not in lab ${state.lab}`);
  if ((state.containers ?? []).some((c) => c.host === hostName)) throw new LabError(`host ${hostName} already has a container in lab ${state.lab}`);
  if (ports.length === 0) throw new LabError('a container needs at least one published port (--publish 5432:5432)');
  const net = RUNTIMES[runtime];
  const container: LabContainer = { host: hostName, runtime, namespace: `${host.namespace}-c`, address: bare(net.address), ports };
  state.namespaces.push(container.namespace);
  state.containers = [...(state.containers ?? []), container];
  await writeState(state);
  await addContainer(host.namespace, { namespace: container.namespace, ...net }, 'vethctr0');
  const rules =
    runtime === 'docker'
      ? dockerIptablesSave([{ bridge: net.bridge, subnet: '172.17.0.0/16', containers: [{ address: container.address, ports }] }])
      : kubeProxyIptablesSave(
          ports.map((p, i) => ({ name: `default/lab-${i}:${p.protocol}`, protocol: p.protocol, nodePort: p.host, clusterIp: `10.96.0.${10 + i}`, port: p.container, endpoint: { address: container.address, port: p.container } })),
        );
  await loadRuntimeRules(host.namespace, rules);
  const published = ports.map((p) => `${p.host}->${p.container}/${p.protocol}`).join(', ');
  log(`lab ${state.lab}: ${runtime === 'docker' ? 'container' : 'pod'} ${container.address} behind ${hostName} (namespace ${container.namespace}), published ${published}, ${runtime === 'docker' ? "Docker's" : "kube-proxy's"} rules loaded`);
  return container;
}

export interface PublishedProbe {
  source: string;
  destination: string;
  address: string;
  protocol: 'tcp' | 'udp';
  port: number;
  /** The container address and port the destination DNATs it to. */
  dnat: string;
  outcome: Outcome;
  /** What explain --dnat predicts, and the rule that decides on the destination. */
  expected: boolean;
  decidedBy: string;
  mismatch: boolean;
}

/**
 * `lab published`: a connection from every other lab host to every published port of every container, compared
 * with `explain --dnat` (the destination's forward chain and the source's output chain). Listeners run in the
 * containers, as the services would.
 */
export async function labPublishedProbe(state: LabState, ws: Pick<Workspace, 'compiler' | 'inventory'>, timeoutMs: number): Promise<PublishedProbe[]> {
  const containers = state.containers ?? [];
  if (containers.length === 0) throw new LabError(`lab ${state.lab} has no container: add one with \`palisade lab container --host HOST --publish PORT\``);
  const v4 = (host: string): string | undefined => state.hosts.find((h) => h.host === host)?.addresses.find((a) => !a.includes(':'));
  const agents: Agent[] = [];
  const agent = (namespace: string): Agent => {
    const made = new Agent(namespace, 0);
    agents.push(made);
    return made;
  };
  try {
    const results: PublishedProbe[] = [];
    for (const c of containers) {
      const listener = agent(c.namespace);
      for (const p of c.ports) {
        const reply = await listener.request({ op: 'listen', protocol: p.protocol, address: '0.0.0.0', port: p.container });
        if ('ok' in reply && !reply.ok) throw new LabError(`cannot listen on ${p.protocol} ${p.container} in container ${c.namespace}: ${reply.error}`);
      }
      const address = v4(c.host);
      if (address === undefined) continue;
      for (const source of state.hosts.filter((h) => h.host !== c.host)) {
        const from = v4(source.host);
        if (from === undefined) continue;
        const client = agent(source.namespace);
        for (const p of c.ports) {
          const flow = explainFlow(ws.compiler, ws.inventory.hosts, {
            source: source.host,
            destination: c.host,
            protocol: p.protocol,
            port: p.host,
            sourcePort: null,
            user: null,
            family: 4,
            dnat: { address: c.address, port: p.container },
          });
          const connect = async (timeout: number): Promise<Outcome> => {
            const r = await client.request({ op: 'connect', protocol: p.protocol, address, port: p.host, localAddress: from, localPort: null, timeoutMs: timeout });
            return 'outcome' in r ? r.outcome : 'error';
          };
          let outcome = await connect(timeoutMs);
          /* A busy machine is not a firewall: a disagreement is tried once more, with a longer timeout. */
          if ((outcome === 'passed') !== flow.allowed) outcome = await connect(timeoutMs * 5);
          const side = flow.sides.find((s) => s.host === c.host);
          results.push({
            source: source.host,
            destination: c.host,
            address,
            protocol: p.protocol,
            port: p.host,
            dnat: `${c.address}:${p.container}`,
            outcome,
            expected: flow.allowed,
            decidedBy: side?.decidedBy ?? '',
            mismatch: (outcome === 'passed') !== flow.allowed,
          });
        }
      }
    }
    return results;
  } finally {
    await Promise.all(agents.map((a) => a.close()));
  }
}

export function formatPublished(results: readonly PublishedProbe[]): string {
  const lines = results.map((r) => {
    const verdict = r.mismatch ? 'MISMATCH' : 'ok';
    return `${verdict.padEnd(8)} ${r.source} -> ${r.destination} ${r.port}/${r.protocol} (published port, DNAT to ${r.dnat}): kernel ${r.outcome}, explain ${r.expected ? 'allowed' : 'denied'} by ${r.decidedBy}`;
  });
  const mismatches = results.filter((r) => r.mismatch).length;
  lines.push(`${results.length} published-port probes, ${results.filter((r) => r.outcome === 'passed').length} passed, ${mismatches} mismatch(es)`);
  return lines.join('\n');
}
