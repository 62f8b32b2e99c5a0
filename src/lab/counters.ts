/**
 * `lab logs`: the counters of palisade's log and drop rules in every lab namespace, read from the kernel
 * (`nft -j list table inet palisade`, or `iptables`/`ip6tables -L -v -x -n` summed over both families), so a
 * probe run shows which chain dropped how many packets and under which log prefix.
 */
import { exec } from './command.ts';
import type { LabHost } from './state.ts';

export interface ChainCounters {
  chain: string;
  /** The chain's log prefix (trailing space trimmed); null when it has no log rule. */
  prefix: string | null;
  /** Packets counted by the log rule (iptables counts only those within the log rate limit). */
  logged: number;
  dropped: number;
}

export interface HostCounters {
  host: string;
  chains: ChainCounters[];
}

type NftExpr = Record<string, unknown>;
interface NftRule {
  chain: string;
  expr: NftExpr[];
}

function chainEntry(chains: Map<string, ChainCounters>, chain: string): ChainCounters {
  let entry = chains.get(chain);
  if (entry === undefined) {
    entry = { chain, prefix: null, logged: 0, dropped: 0 };
    chains.set(chain, entry);
  }
  return entry;
}

/** Pure: counters from `nft -j list table inet palisade`. */
export function parseNftCounters(json: string): ChainCounters[] {
  const items = (JSON.parse(json) as { nftables: Array<{ rule?: NftRule }> }).nftables;
  const chains = new Map<string, ChainCounters>();
  for (const { rule } of items) {
    if (rule === undefined) continue;
    const counter = rule.expr.find((e) => 'counter' in e)?.counter as { packets: number } | undefined;
    const log = rule.expr.find((e) => 'log' in e)?.log as { prefix?: string } | undefined;
    const drop = rule.expr.some((e) => 'drop' in e);
    if (counter === undefined || (log === undefined && !drop)) continue;
    const entry = chainEntry(chains, rule.chain);
    if (log !== undefined) {
      entry.prefix = log.prefix?.trimEnd() ?? null;
      entry.logged += counter.packets;
    }
    if (drop) entry.dropped += counter.packets;
  }
  return [...chains.values()];
}

/** Pure: counters of palisade's chains from `iptables -L -v -x -n` (or ip6tables); added to `into`. */
export function parseIptablesCounters(text: string, into: Map<string, ChainCounters> = new Map()): Map<string, ChainCounters> {
  let chain: string | null = null;
  for (const line of text.split('\n')) {
    const header = /^Chain (\S+)/.exec(line);
    if (header !== null) {
      chain = header[1]?.startsWith('PALISADE-') ? (header[1] as string) : null;
      continue;
    }
    const fields = line.trim().split(/\s+/);
    if (chain === null || fields.length < 3 || !/^\d+$/.test(fields[0] as string)) continue;
    const packets = Number(fields[0]);
    if (fields[2] === 'LOG') {
      const entry = chainEntry(into, chain);
      entry.prefix = /prefix "([^"]*)"/.exec(line)?.[1]?.trimEnd() ?? null;
      entry.logged += packets;
    } else if (fields[2] === 'DROP') chainEntry(into, chain).dropped += packets;
  }
  return into;
}

async function hostCounters(host: LabHost, backend: 'nft' | 'iptables'): Promise<HostCounters> {
  const inNs = (tool: string, args: string[]): Promise<string> =>
    exec('ip', ['netns', 'exec', host.namespace, tool, ...args]).then((r) => (r.code === 0 ? r.stdout : ''));
  if (backend === 'nft') {
    const json = await inNs('nft', ['-j', 'list', 'table', 'inet', 'palisade']);
    return { host: host.host, chains: json === '' ? [] : parseNftCounters(json) };
  }
  const chains = new Map<string, ChainCounters>();
  for (const tool of ['iptables', 'ip6tables']) parseIptablesCounters(await inNs(tool, ['-L', '-v', '-x', '-n']), chains);
  return { host: host.host, chains: [...chains.values()] };
}

/** Counters of every lab host, in the lab's host order; a host without palisade's rules has no chains. */
export function readCounters(hosts: readonly LabHost[], backend: 'nft' | 'iptables'): Promise<HostCounters[]> {
  return Promise.all(hosts.map((h) => hostCounters(h, backend)));
}
