/**
 * Address-list normalisation for named sets: canonical text, numeric order, no duplicates and no entry
 * contained in another (nftables interval sets refuse overlapping elements).
 */
import ipaddr from 'ipaddr.js';
import { plainAddress } from '../inventory/address.ts';
import type { Family } from './ir.ts';

interface Block {
  /** First address of the block as a number. */
  start: bigint;
  /** Last address of the block. */
  end: bigint;
  prefix: number;
  text: string;
}

function toBigInt(bytes: number[]): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

/** Parses `a.b.c.d`, `a.b.c.d/n`, `v6` or `v6/n`; the text must already be valid (validated upstream). */
function toBlock(entry: string, family: Family): Block {
  const bits = family === 4 ? 32 : 128;
  /* A host's address, as inventories hold them: read without ipaddr.js (a set of 100,000 hosts' addresses). */
  const plain = plainAddress(entry);
  if (plain !== null && plain.family === (family === 4 ? 'v4' : 'v6')) return { start: plain.value, end: plain.value, prefix: bits, text: plain.text };
  const [addressText, prefixText] = entry.split('/') as [string, string | undefined];
  const address = ipaddr.parse(addressText);
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  const start = toBigInt(address.toByteArray());
  const size = 1n << BigInt(bits - prefix);
  const base = (start / size) * size;
  const canonical = address.toString();
  return {
    start: base,
    end: base + size - 1n,
    prefix,
    text: prefix === bits ? canonical : `${canonical}/${prefix}`,
  };
}

/**
 * Sorted, unique, non-overlapping. Networks either nest or are disjoint, so after sorting by start
 * (widest first) an entry is dropped exactly when it lies inside the last kept one.
 */
export function normaliseNetworks(entries: Iterable<string>, family: Family): string[] {
  const blocks = [...new Set(entries)].map((entry) => toBlock(entry, family));
  blocks.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.prefix - b.prefix));
  const kept: Block[] = [];
  for (const block of blocks) {
    const last = kept[kept.length - 1];
    if (last !== undefined && block.start <= last.end) continue;
    kept.push(block);
  }
  return kept.map((block) => block.text);
}

/**
 * The addresses of one family of every host of an inventory, in the order normaliseNetworks puts them: each host's
 * addresses as ranks (one rank per distinct address) and the canonical text of each rank. A set of hosts' addresses
 * is then its hosts' ranks sorted, without duplicates: what normaliseNetworks gives, with each address parsed once
 * per inventory instead of once per set that holds it (a fleet run builds tens of thousands of sets).
 */
export class AddressOrder {
  private constructor(
    private readonly texts: readonly string[],
    private readonly ranks: ReadonlyArray<readonly number[]>,
  ) {}

  /** The order of the hosts' addresses (per host, in inventory order); null when one has a prefix (not a host address). */
  static of(addresses: ReadonlyArray<readonly string[]>, family: Family): AddressOrder | null {
    const blocks = new Map<string, Block>();
    const bits = family === 4 ? 32 : 128;
    for (const list of addresses) {
      for (const address of list) {
        if (blocks.has(address)) continue;
        const block = toBlock(address, family);
        if (block.prefix !== bits) return null;
        blocks.set(address, block);
      }
    }
    const sorted = [...blocks].sort(([, a], [, b]) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    const texts: string[] = [];
    const rankOf = new Map<string, number>();
    let last: bigint | null = null;
    for (const [address, block] of sorted) {
      if (block.start !== last) texts.push(block.text);
      last = block.start;
      rankOf.set(address, texts.length - 1);
    }
    return new AddressOrder(
      texts,
      addresses.map((list) => list.map((address) => rankOf.get(address) as number)),
    );
  }

  /** normaliseNetworks of the addresses of the hosts at these inventory positions. */
  elements(positions: Iterable<number>): string[] {
    const ranks: number[] = [];
    for (const position of positions) for (const rank of this.ranks[position] ?? []) ranks.push(rank);
    const sorted = Uint32Array.from(ranks).sort();
    const out: string[] = [];
    for (let i = 0; i < sorted.length; i++) {
      if (i === 0 || sorted[i] !== sorted[i - 1]) out.push(this.texts[sorted[i] as number] as string);
    }
    return out;
  }
}

/** Whether an address (no prefix) lies in one of the normalised elements of a set. */
export function networksContain(elements: readonly string[], address: string, family: Family): boolean {
  const parsed = ipaddr.parse(address);
  if ((parsed.kind() === 'ipv4') !== (family === 4)) return false;
  return elements.some((element) => {
    const [net, prefix] = element.split('/') as [string, string | undefined];
    if (prefix === undefined) return ipaddr.parse(net).toString() === parsed.toString();
    return parsed.match(ipaddr.parse(net), Number(prefix));
  });
}

export function familyOf(address: string): Family {
  return ipaddr.parse(address.split('/')[0] ?? '').kind() === 'ipv4' ? 4 : 6;
}
