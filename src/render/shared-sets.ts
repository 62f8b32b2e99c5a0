/**
 * The renderings of named sets, shared by the hosts of one fleet run (issue 15). A set is keyed by its content
 * name, which says what it selects: within one compiler every host that has the set holds the same IrSet, so its
 * elements are checked and written once per run instead of once per host (the sum over hosts grows as N²).
 * An IrSet is never changed in place (an incremental update makes a new one), so a set under a known name but
 * not the object rendered before (another compiler, an updated set) is rendered again and replaces it. Only a
 * cache: the output is byte for byte what rendering each host alone gives.
 */
import type { IrSet } from '../compile/ir.ts';
import type { Ipset } from './iptables.ts';

interface Rendered<From, To> {
  from: From;
  to: To;
}

function memo<From extends { name: string }, To>(cache: Map<string, Rendered<From, To>>, from: From, render: (from: From) => To): To {
  const known = cache.get(from.name);
  if (known !== undefined && known.from === from) return known.to;
  const to = render(from);
  cache.set(from.name, { from, to });
  return to;
}

export class SharedSets {
  private readonly nft = new Map<string, Rendered<IrSet, string>>();
  private readonly ipsets = new Map<string, Rendered<IrSet, Ipset>>();
  private readonly ipsetTexts = new Map<string, Rendered<Ipset, string>>();

  /** The set's nft definition block. */
  nftText(set: IrSet, render: (set: IrSet) => string): string {
    return memo(this.nft, set, render);
  }

  /** The set as the iptables backend's ipset. */
  ipset(set: IrSet, render: (set: IrSet) => Ipset): Ipset {
    return memo(this.ipsets, set, render);
  }

  /** The lines of an ipset (one made through `ipset`) for `ipset restore`. */
  ipsetText(ipset: Ipset, render: (ipset: Ipset) => string): string {
    return memo(this.ipsetTexts, ipset, render);
  }

  /** How many distinct sets were rendered for nft and for iptables. */
  get sizes(): { nft: number; ipset: number } {
    return { nft: this.nft.size, ipset: this.ipsets.size };
  }
}
