/**
 * ipset for the iptables backend: sets filled into temporary sets and swapped in (each swap atomic), element
 * updates as `add`/`del` through `ipset restore`, and palisade's sets found by their name prefix.
 */

/** Sets palisade creates: pal4_*, pal6_* (named by the compiler) and its temporaries. */
export const PALISADE_SET = /^pal(?:4|6|tmp)_/;
export const TMP_PREFIX = 'paltmp_';

export interface IpsetDefinition {
  name: string;
  /** What follows the name in `create NAME ...`, e.g. `hash:net family inet maxelem 1048576 -exist`. */
  create: string;
  elements: string[];
}

/** Reads the renderer's `ipset restore` text: create/flush/add lines. */
export function parseIpset(text: string): IpsetDefinition[] {
  const sets = new Map<string, IpsetDefinition>();
  for (const line of text.split('\n')) {
    const [verb, name, ...rest] = line.split(' ');
    if (name === undefined) continue;
    if (verb === 'create') sets.set(name, { name, create: rest.join(' '), elements: [] });
    else if (verb === 'add') sets.get(name)?.elements.push(rest.join(' '));
  }
  return [...sets.values()];
}

export const tmpName = (index: number): string => `${TMP_PREFIX}${index}`;

/** Fills a temporary set per set and makes sure each real set exists (empty when new), so rules can be tested. */
export function stageScript(sets: readonly IpsetDefinition[]): string {
  const lines = sets.flatMap((set, i) => [
    `create ${tmpName(i)} ${set.create}`,
    `flush ${tmpName(i)}`,
    ...set.elements.map((e) => `add ${tmpName(i)} ${e}`),
    `create ${set.name} ${set.create}`,
  ]);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** Swaps each staged set with its real one; run twice, it swaps them back. */
export function swapScript(sets: readonly IpsetDefinition[]): string {
  return sets.map((set, i) => `swap ${tmpName(i)} ${set.name}\n`).join('');
}

export function destroyScript(names: readonly string[]): string {
  return names.map((n) => `destroy ${n}\n`).join('');
}

/** Deletions first, then additions, between two renderings of the same sets. */
export function membershipScript(before: readonly IpsetDefinition[], after: readonly IpsetDefinition[]): string {
  const old = new Map(before.map((s) => [s.name, new Set(s.elements)]));
  const lines: string[] = [];
  const adds: string[] = [];
  for (const set of after) {
    const previous = old.get(set.name);
    if (previous === undefined) throw new Error(`set ${set.name} is new: not a membership-only change`);
    const now = new Set(set.elements);
    for (const e of previous) if (!now.has(e)) lines.push(`del ${set.name} ${e} -exist`);
    for (const e of set.elements) if (!previous.has(e)) adds.push(`add ${set.name} ${e} -exist`);
  }
  lines.push(...adds);
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** `ipset save` reduced to palisade's sets, canonical: type and family only, elements sorted. */
export function canonicalIpset(saved: string): string[] {
  const creates: string[] = [];
  const adds: string[] = [];
  for (const line of saved.split('\n')) {
    const [verb, name, ...rest] = line.split(' ');
    if (name === undefined || !PALISADE_SET.test(name) || name.startsWith(TMP_PREFIX)) continue;
    if (verb === 'create') creates.push(`ipset create ${name} ${rest.slice(0, 3).join(' ')}`);
    else if (verb === 'add') adds.push(`ipset add ${name} ${rest.join(' ')}`);
  }
  return [...creates.sort(), ...adds.sort()];
}
