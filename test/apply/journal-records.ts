/** Applied records of element-only changes for the state journal tests (the crash test's child uses them too). */
import type { Ruleset } from '../../src/compile/ir.ts';
import { hashRuleset, type AppliedRecord } from '../../src/apply/state.ts';
import { nftListingAfterMembership } from '../../src/kernel/nft.ts';
import { fixture } from '../render/fixture.ts';

export const WEB = 'pal4_web0000000000';
const setLine = (name: string, elem: string[]): string => JSON.stringify({ set: { family: 'inet', name, table: 'palisade', type: 'ipv4_addr', elem: elem.map((e) => JSON.stringify(e)).sort().map((e) => JSON.parse(e) as string) } });

function withWeb(web: string[]): Ruleset {
  const rs = fixture();
  return { ...rs, sets: rs.sets.map((s) => (s.name === WEB ? { ...s, elements: web } : s)) };
}

export function firstRecord(web: string[]): AppliedRecord {
  const ruleset = withWeb(web);
  return { id: 'first', host: ruleset.host, backend: 'nft', ruleset, hash: hashRuleset(ruleset), policyRevision: ruleset.policyRevision, inventoryRevision: ruleset.inventoryRevision, appliedAt: new Date(0).toISOString(), command: ['apply'], listing: `{"table":{"family":"inet","name":"palisade"}}\n${setLine(WEB, web)}` };
}

/** The record an element-only apply of `web` after `before` makes: the listing derived as the applier derives it. */
export function nextRecord(before: AppliedRecord, id: string, web: string[]): AppliedRecord {
  const ruleset = withWeb(web);
  const listing = nftListingAfterMembership(before.listing ?? '', before.ruleset, ruleset);
  return { ...before, id, ruleset, hash: hashRuleset(ruleset), appliedAt: new Date(1000).toISOString(), listing };
}

