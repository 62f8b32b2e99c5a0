/** Raw ("predefined") rules: backend text placed in palisade's own chains, at the rules' position. */
import type { RawRule } from '../policy/types.ts';
import type { IrRawIptables, IrRule } from './ir.ts';

export interface RawPlacement {
  input: IrRule[];
  output: IrRule[];
  forward: IrRule[];
  /** `-I` rules: at the top of palisade's chain, before the base rules. */
  top: { input: IrRule[]; output: IrRule[]; forward: IrRule[] };
  rawIptables: IrRawIptables[];
  warnings: string[];
}

const FILTER_CHAINS = { INPUT: 'input', OUTPUT: 'output', FORWARD: 'forward' } as const;

export function rawRulesFor(rules: readonly RawRule[], comment: (text: string) => string | null): RawPlacement {
  const placement: RawPlacement = { input: [], output: [], forward: [], top: { input: [], output: [], forward: [] }, rawIptables: [], warnings: [] };
  for (const rule of rules) {
    const origin = { kind: 'raw' as const, rule: rule.name };
    const ipt = rule.iptables;
    const filterChain = ipt !== null && ipt.table === 'filter' ? FILTER_CHAINS[ipt.chain as keyof typeof FILTER_CHAINS] : undefined;
    if (ipt !== null && ipt.table !== 'filter') {
      placement.rawIptables.push({ rule: ipt.rule, table: ipt.table, chain: ipt.chain, name: rule.name });
    }
    if (rule.nft !== null && filterChain === rule.nft.chain) {
      (ipt?.insert === true ? placement.top : placement)[rule.nft.chain].push({ matches: [], verdict: { kind: 'accept' }, origin, comment: comment(rule.name), raw: { nft: rule.nft.rule, iptables: ipt?.rule } });
      continue;
    }
    if (rule.nft !== null) {
      placement[rule.nft.chain].push({ matches: [], verdict: { kind: 'accept' }, origin, comment: comment(rule.name), raw: { nft: rule.nft.rule } });
    }
    if (filterChain !== undefined && ipt !== null) {
      (ipt.insert ? placement.top : placement)[filterChain].push({ matches: [], verdict: { kind: 'accept' }, origin, comment: comment(rule.name), raw: { iptables: ipt.rule } });
    }
    if (rule.nft === null) placement.warnings.push(`raw rule "${rule.name}" has no nft form: the nft backend skips it`);
    if (ipt === null) placement.warnings.push(`raw rule "${rule.name}" has no iptables form: the iptables backend skips it`);
  }
  /* Inserted rules of the other tables come first in their chain, as `-I` would put them. */
  const inserted = new Set(rules.filter((r) => r.iptables?.insert === true).map((r) => r.name));
  placement.rawIptables.sort((a, b) => Number(inserted.has(b.name)) - Number(inserted.has(a.name)));
  return placement;
}
