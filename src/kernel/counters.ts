/**
 * The one reader of palisade's packet counters, for `status` (Backend.counters), `lab logs` and the agent's metrics:
 * per chain, the packets and bytes its drop rules and, apart, its reject rules counted, and its drop log's prefix and count (LOG or NFLOG, `DROP_PAL_*`
 * or audit mode's `AUDIT_PAL_*`; with iptables, only the packets within the log rate limit). Parsers are pure; the iptables reader sums IPv4 and IPv6.
 */
import { AUDIT_PREFIX, DROP_PREFIX, isIptablesOwnChain } from '../layout.ts';
import { runTool, type Target } from './exec.ts';

export interface ChainCounters {
  chain: string;
  /** The chain's log prefix (trailing space trimmed); null when it has no log rule. */
  prefix: string | null;
  /** Packets counted by its log rules. */
  logged: number;
  /** Packets and bytes counted by its drop rules (silently dropped: the sender times out). */
  packets: number;
  bytes: number;
  /** Packets and bytes counted by its reject rules (answered: TCP reset, ICMP unreachable). */
  rejected: number;
  rejectedBytes: number;
}

class Tally {
  private readonly chains = new Map<string, ChainCounters>();

  private entry(chain: string): ChainCounters {
    let entry = this.chains.get(chain);
    if (entry === undefined) {
      entry = { chain, prefix: null, logged: 0, packets: 0, bytes: 0, rejected: 0, rejectedBytes: 0 };
      this.chains.set(chain, entry);
    }
    return entry;
  }

  /** Only the chain's log of what it stops (or, in audit mode, would stop): `action: log` rules log other traffic. */
  log(chain: string, prefix: string, packets: number): void {
    if (!prefix.startsWith(DROP_PREFIX) && !prefix.startsWith(AUDIT_PREFIX)) return;
    const entry = this.entry(chain);
    entry.prefix = prefix.trimEnd();
    entry.logged += packets;
  }

  stop(chain: string, verdict: 'drop' | 'reject', packets: number, bytes: number): void {
    const entry = this.entry(chain);
    if (verdict === 'drop') {
      entry.packets += packets;
      entry.bytes += bytes;
    } else {
      entry.rejected += packets;
      entry.rejectedBytes += bytes;
    }
  }

  result(): ChainCounters[] {
    return [...this.chains.values()];
  }
}

type NftExpr = Record<string, unknown>;

/** Pure: counters from the items of `nft -j list table inet palisade`. */
export function nftCounters(items: readonly unknown[]): ChainCounters[] {
  const tally = new Tally();
  for (const item of items) {
    const rule = (item as { rule?: { chain?: string; expr?: NftExpr[] } } | null)?.rule;
    if (rule?.chain === undefined) continue;
    const expr = rule.expr ?? [];
    const counter = expr.find((e) => 'counter' in e)?.counter as { packets?: number; bytes?: number } | undefined;
    const log = expr.find((e) => 'log' in e)?.log as { prefix?: string } | undefined;
    if (log !== undefined) tally.log(rule.chain, log.prefix ?? '', counter?.packets ?? 0);
    const verdict = expr.some((e) => 'drop' in e) ? 'drop' : expr.some((e) => 'reject' in e) ? 'reject' : null;
    if (verdict !== null) tally.stop(rule.chain, verdict, counter?.packets ?? 0, counter?.bytes ?? 0);
  }
  return tally.result();
}

const SAVED_RULE = /^\[(\d+):(\d+)\] -A (\S+) (.*)$/;

/** Pure: counters of palisade's chains from `iptables-save -c` output, of one family or both concatenated. */
export function iptablesCounters(saved: string): ChainCounters[] {
  const tally = new Tally();
  for (const line of saved.split('\n')) {
    const rule = SAVED_RULE.exec(line);
    if (rule === null || !isIptablesOwnChain(rule[3] as string)) continue;
    const [, packets, bytes, chain, spec] = rule as unknown as [string, string, string, string, string];
    /* Quoted text (comments are rule names) is blanked first: a name cannot pose as a target. */
    const target = / -j (\S+)/.exec(` ${spec.replace(/"(?:[^"\\]|\\.)*"/g, '""')}`)?.[1];
    if (target === 'LOG' || target === 'NFLOG') tally.log(chain, /--(?:nflog|log)-prefix "([^"]*)"/.exec(spec)?.[1] ?? '', Number(packets));
    else if (target === 'DROP' || target === 'REJECT') tally.stop(chain, target === 'DROP' ? 'drop' : 'reject', Number(packets), Number(bytes));
  }
  return tally.result();
}

/** The filter tables of both families, read from the kernel. */
export async function readIptablesCounters(target: Target): Promise<ChainCounters[]> {
  const v4 = await runTool(target, 'iptables-save', ['-c', '-t', 'filter'], undefined, 'iptables-save -c');
  const v6 = await runTool(target, 'ip6tables-save', ['-c', '-t', 'filter'], undefined, 'ip6tables-save -c');
  return iptablesCounters(`${v4}\n${v6}`);
}
