/** Raw ("predefined") rules: backend text placed in palisade's own chains, at the rules' position. */
import { error, type Diagnostic } from '../diagnostics.ts';
import { NFT_TABLE_CHAIN_NAMES, type NftRawTable } from '../layout.ts';
import type { RawRule } from '../policy/types.ts';
import type { IrRawIptables, IrRule } from './ir.ts';

/**
 * iptables-translate's answer for a raw rule that has an iptables form and no nft form: the nft rule texts that do
 * the same in palisade's table, or why it cannot translate the rule. Keyed by rule name; made at the edge
 * (src/kernel/iptables-translate.ts), since it runs a tool.
 */
export type RawTranslation = { nft: string[] } | { error: string };
export type RawTranslations = ReadonlyMap<string, RawTranslation>;

type FilterChain = 'input' | 'output' | 'forward';

export interface RawPlacement {
  input: IrRule[];
  output: IrRule[];
  forward: IrRule[];
  /** `-I` rules: at the top of palisade's chain, before the base rules. */
  top: { input: IrRule[]; output: IrRule[]; forward: IrRule[] };
  rawIptables: IrRawIptables[];
  warnings: string[];
  untranslatable: Diagnostic[];
}

const FILTER_CHAINS = { INPUT: 'input', OUTPUT: 'output', FORWARD: 'forward' } as const;

/** Where a rule goes: a chain of the filter table, or a built-in chain of the nat, mangle or raw table. */
type Place = { filter: FilterChain } | { table: NftRawTable; chain: string };

function iptablesPlace(ipt: NonNullable<RawRule['iptables']>): Place {
  return ipt.table === 'filter' ? { filter: FILTER_CHAINS[ipt.chain as keyof typeof FILTER_CHAINS] } : { table: ipt.table, chain: ipt.chain };
}

function nftPlace(chain: string): Place {
  const table = NFT_TABLE_CHAIN_NAMES.get(chain);
  return table === undefined ? { filter: chain as FilterChain } : { table: table.table, chain: table.builtin };
}

const samePlace = (a: Place, b: Place): boolean => JSON.stringify(a) === JSON.stringify(b);

/** The error of a raw rule the nft backend cannot load: it names the rule and the two ways out. */
export function untranslatableError(rule: RawRule, reason: string): Diagnostic {
  return error(
    `no nft form, and iptables-translate cannot translate the iptables form (${reason}): ` +
      'write its nft form ("nft: add rule inet palisade <chain> <rule>") or use the iptables backend (--backend iptables)',
    { ...rule.origin, rule: rule.name },
  );
}

/** The nft texts of a raw rule: its own `nft:` form, else the translation of its iptables form. */
function nftTexts(rule: RawRule, translations: RawTranslations | undefined): { place: Place; texts: string[] } | { error: string } | null {
  if (rule.nft !== null) return { place: nftPlace(rule.nft.chain), texts: [rule.nft.rule] };
  const translation = rule.iptables === null ? undefined : translations?.get(rule.name);
  if (rule.iptables === null || translation === undefined) return null;
  if ('error' in translation) return translation;
  return { place: iptablesPlace(rule.iptables), texts: translation.nft };
}

export function rawRulesFor(rules: readonly RawRule[], comment: (text: string) => string | null, translations?: RawTranslations): RawPlacement {
  const placement: RawPlacement = {
    input: [],
    output: [],
    forward: [],
    top: { input: [], output: [], forward: [] },
    rawIptables: [],
    warnings: [],
    untranslatable: [],
  };
  const inserted = new Set<IrRawIptables>();
  for (const rule of rules) {
    const origin = { kind: 'raw' as const, rule: rule.name };
    const ipt = rule.iptables;
    /* `-I` puts the iptables form, and its translation, at the top; an `nft:` form elsewhere stays at the rule's place. */
    const put = (place: Place, text: { nft?: string; iptables?: string }, insert: boolean): void => {
      if ('filter' in place) {
        const raw = { ...(text.nft === undefined ? {} : { nft: text.nft }), ...(text.iptables === undefined ? {} : { iptables: text.iptables }) };
        (insert ? placement.top : placement)[place.filter].push({ matches: [], verdict: { kind: 'accept' }, origin, comment: comment(rule.name), raw });
        return;
      }
      const entry: IrRawIptables = {
        ...(text.iptables === undefined ? {} : { rule: text.iptables }),
        ...(text.nft === undefined ? {} : { nft: text.nft }),
        table: place.table,
        chain: place.chain,
        name: rule.name,
      };
      placement.rawIptables.push(entry);
      if (insert) inserted.add(entry);
    };
    const nft = nftTexts(rule, translations);
    const iptPlace = ipt === null ? null : iptablesPlace(ipt);
    const nftForm = nft !== null && 'texts' in nft ? nft : null;
    if (nftForm !== null && iptPlace !== null && ipt !== null && nftForm.texts.length === 1 && samePlace(nftForm.place, iptPlace)) {
      put(iptPlace, { nft: nftForm.texts[0] as string, iptables: ipt.rule }, ipt.insert);
      continue;
    }
    const translated = rule.nft === null && ipt?.insert === true;
    if (nftForm !== null) for (const text of nftForm.texts) put(nftForm.place, { nft: text }, translated);
    if (iptPlace !== null && ipt !== null) put(iptPlace, { iptables: ipt.rule }, ipt.insert);
    if (nft !== null && 'error' in nft) placement.untranslatable.push(untranslatableError(rule, nft.error));
    else if (nft === null) placement.warnings.push(`raw rule "${rule.name}" has no nft form: the nft backend skips it`);
    if (ipt === null) placement.warnings.push(`raw rule "${rule.name}" has no iptables form: the iptables backend skips it`);
  }
  /* Inserted rules of the other tables come first in their chain, as `-I` would put them. */
  placement.rawIptables.sort((a, b) => Number(inserted.has(b)) - Number(inserted.has(a)));
  return placement;
}
