/**
 * What container runtimes a host runs, as its kernel shows them when palisade loads a ruleset: Docker (docker0,
 * its DOCKER-USER chain), kube-proxy (iptables mode: KUBE-NODEPORTS; nftables mode: `table ip kube-proxy`), and the
 * CNIs that manage forwarding themselves, Calico (cali- chains, cali* links) and Cilium (cilium_* links, CILIUM_
 * chains). Apply reports it (docs/containers.md): published ports are covered, or why they may not be.
 */
import type { Ruleset } from '../compile/ir.ts';
import { execTool, type Target } from './exec.ts';

export interface RuntimeFacts {
  links: string[];
  /** Chains `iptables-save` (IPv4, every table) declares. */
  chains: string[];
  /** `nft list tables`: `family name`. */
  nftTables: string[];
}

/** Pure: the notes apply prints for these facts; `enforced`: the ruleset has the published-ports chain. */
export function runtimeNotes(facts: RuntimeFacts, enforced: boolean): string[] {
  const notes: string[] = [];
  const link = (test: (name: string) => boolean): string[] => facts.links.filter(test);
  const chain = (test: (name: string) => boolean): string[] => facts.chains.filter(test);
  const found = (things: string[]): string => [...new Set(things)].slice(0, 4).join(', ');
  const published = enforced ? 'ports it publishes follow this host\'s inbound rules' : 'settings.containers is off: ports it publishes bypass the inbound rules';
  const docker = [...link((n) => n === 'docker0'), ...chain((c) => c === 'DOCKER-USER' || c === 'DOCKER')];
  if (docker.length > 0) notes.push(`containers: Docker found (${found(docker)}): ${published}`);
  const kubeIptables = chain((c) => c === 'KUBE-NODEPORTS');
  const kubeNft = facts.nftTables.filter((t) => / kube-proxy$/.test(t));
  if (kubeIptables.length > 0 || kubeNft.length > 0) {
    const mode = kubeNft.length > 0 ? 'nftables mode' : 'iptables mode';
    notes.push(`containers: kube-proxy (${mode}) found: ${enforced ? 'NodePorts follow this host\'s inbound rules' : 'settings.containers is off: NodePorts bypass the inbound rules'}`);
  }
  const calico = [...link((n) => n.startsWith('cali') || n === 'vxlan.calico'), ...chain((c) => c.startsWith('cali-'))];
  if (calico.length > 0) {
    notes.push(
      `containers: Calico found (${found(calico)}): it manages forwarding and pod policy on this host; palisade only adds its own drops for published ports and from: rules, and does not replace Calico's policy (docs/containers.md)`,
    );
  }
  const cilium = [...link((n) => n.startsWith('cilium_')), ...chain((c) => c.startsWith('CILIUM_'))];
  if (cilium.length > 0) {
    notes.push(
      `containers: Cilium found (${found(cilium)}): with its kube-proxy replacement, services are translated in eBPF before netfilter, where palisade's forward chain does not see them; use Cilium's host policies there (docs/containers.md)`,
    );
  }
  return notes;
}

/** Reads the facts; a tool that is missing or fails contributes nothing (detection never fails an apply). */
export async function detectRuntimes(target: Target): Promise<RuntimeFacts> {
  const text = async (tool: string, args: string[]): Promise<string> => {
    try {
      const result = await execTool(target, tool, args);
      return result.code === 0 ? result.stdout : '';
    } catch {
      return '';
    }
  };
  const [links, saved, tables] = await Promise.all([text('ip', ['-o', 'link', 'show']), text('iptables-save', []), text('nft', ['list', 'tables'])]);
  return {
    links: links.split('\n').flatMap((line) => {
      const name = /^\d+: ([^:@\s]+)/.exec(line)?.[1];
      return name === undefined ? [] : [name];
    }),
    chains: saved.split('\n').flatMap((line) => (line.startsWith(':') ? [line.slice(1).split(' ')[0] as string] : [])),
    nftTables: tables.split('\n').flatMap((line) => (line.startsWith('table ') ? [line.slice('table '.length).trim()] : [])),
  };
}

/** The notes for loading `rs` where `target` is. */
export async function containerNotes(target: Target, rs: Ruleset): Promise<string[]> {
  return runtimeNotes(await detectRuntimes(target), rs.chains.some((c) => c.forward === 'published'));
}
