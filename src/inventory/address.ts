/** One host address from an inventory: parsed, classified and canonicalised with ipaddr.js. */
import ipaddr from 'ipaddr.js';
import { shown } from './shown.ts';

export type HostAddress = { ok: true; family: 'v4' | 'v6'; text: string } | { ok: false; message: string };

const EXPECTED = 'expected a single IPv4 (10.0.0.1) or IPv6 (2001:db8::1) address';

const NOT_ONE_MACHINE = "a host address must be one machine's own address";

/**
 * Ranges (ipaddr.js names) that never name one machine of the fleet: a rule selecting a host must not open
 * them. Link-local addresses exist on every link (the same fe80::1 on many hosts); NAT64 and IPv4-translated
 * addresses stand for an IPv4 host behind a translator, which would then be opened under another host's name.
 */
const NOT_A_HOST: Record<string, string> = {
  unspecified: `unspecified: ${NOT_ONE_MACHINE}`,
  loopback: `a loopback address: ${NOT_ONE_MACHINE}`,
  multicast: `a multicast address: ${NOT_ONE_MACHINE}`,
  broadcast: `the broadcast address: ${NOT_ONE_MACHINE}`,
  linkLocal: 'a link-local address, valid only on its own link and reused on every link: list the host\'s global or private address',
  rfc6052: 'a NAT64 address (64:ff9b::/96): it stands for an IPv4 host behind a translator; list that host\'s own address',
  rfc6145: 'an IPv4-translated address (::ffff:0:0/96): it stands for an IPv4 host behind a translator; list that host\'s own address',
};

function refused(text: string, range: string): HostAddress | null {
  const what = NOT_A_HOST[range];
  return what === undefined ? null : { ok: false, message: `${text} is ${what}` };
}

const DOT = 0x2e;
const COLON = 0x3a;

/**
 * The address `value` stands for, as a number, if it is dotted decimal without leading zeros, each part at
 * most 255 (what ipaddr.js's isValidFourPartDecimal takes, and its own canonical text); -1 when it is not.
 */
function dottedValue(value: string): number {
  let address = 0;
  let parts = 0;
  let part = 0;
  let digits = 0;
  for (let i = 0; i <= value.length; i++) {
    const c = i === value.length ? DOT : value.charCodeAt(i);
    if (c === DOT) {
      if (digits === 0 || part > 255 || parts === 4) return -1;
      address = address * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39 && digits < 3 && !(digits === 1 && part === 0)) {
      part = part * 10 + (c - 0x30);
      digits++;
    } else {
      return -1;
    }
  }
  return parts === 4 ? address : -1;
}

/**
 * Writes the colon-separated groups of value[from, to) (one to four lower-case hex digits each) into
 * groups[at...]; their number, or -1 when that text is not such groups or they would not fit in eight.
 */
function hexGroups(value: string, from: number, to: number, groups: Uint16Array, at: number): number {
  if (from === to) return 0;
  let count = 0;
  let group = 0;
  let digits = 0;
  for (let i = from; i <= to; i++) {
    const c = i === to ? COLON : value.charCodeAt(i);
    if (c === COLON) {
      if (digits === 0 || at + count === 8) return -1;
      groups[at + count++] = group;
      group = 0;
      digits = 0;
      continue;
    }
    const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1;
    if (digit === -1 || digits === 4) return -1;
    group = group * 16 + digit;
    digits++;
  }
  return count;
}

/**
 * Fills `groups` with the eight groups of a plain IPv6 address: lower-case hex groups and colons only (no
 * embedded IPv4, zone or prefix), at most one `::`, standing for two groups or more. False for anything else.
 */
function plainIpv6Groups(value: string, groups: Uint16Array): boolean {
  if (value.length > 39) return false;
  const gap = value.indexOf('::');
  if (gap === -1) return hexGroups(value, 0, value.length, groups, 0) === 8;
  if (value.indexOf('::', gap + 1) !== -1) return false;
  const head = hexGroups(value, 0, gap, groups, 0);
  const tail = head === -1 ? -1 : hexGroups(value, gap + 2, value.length, groups, head);
  if (tail === -1 || head + tail > 6) return false;
  groups.copyWithin(8 - tail, head, head + tail);
  groups.fill(0, head, 8 - tail);
  return true;
}

function hexJoin(groups: Uint16Array, from: number, to: number): string {
  let text = '';
  for (let i = from; i < to; i++) text += (i === from ? '' : ':') + (groups[i] as number).toString(16);
  return text;
}

/** RFC 5952 text (ipaddr.js's toRFC5952String): lower-case, no leading zeros, the longest (leftmost) run of two zero groups or more as `::`. */
function rfc5952(groups: Uint16Array): string {
  let start = -1;
  let length = 1;
  for (let i = 0; i < 8; ) {
    let end = i;
    while (end < 8 && groups[end] === 0) end++;
    if (end - i > length) {
      start = i;
      length = end - i;
    }
    i = end === i ? i + 1 : end;
  }
  return start === -1 ? hexJoin(groups, 0, 8) : `${hexJoin(groups, 0, start)}::${hexJoin(groups, start + length, 8)}`;
}

const GROUPS = new Uint16Array(8);

/**
 * The common forms (dotted decimal, lower-case hex groups) of addresses outside every range a host address
 * may not be in, without ipaddr.js, which costs seconds over a 100,000-host inventory: the same result as
 * hostAddressOf. Null for hostAddressOf to decide: other forms, and addresses whose first octet (IPv4: 0, 127,
 * 169, 224 and above) or first group (IPv6: 0, 64, fe80 and above) may put them in a refused range.
 */
function plainHostAddress(value: string): HostAddress | null {
  const dotted = dottedValue(value);
  const octet = dotted === -1 ? -1 : Math.floor(dotted / 0x1000000);
  if (octet !== -1) return octet === 0 || octet === 127 || octet === 169 || octet >= 224 ? null : { ok: true, family: 'v4', text: value };
  if (!plainIpv6Groups(value, GROUPS)) return null;
  const group = GROUPS[0] as number;
  return group === 0 || group === 0x64 || group >= 0xfe80 ? null : { ok: true, family: 'v6', text: rfc5952(GROUPS) };
}

function v6Address(value: string, v6: ipaddr.IPv6): HostAddress {
  if (v6.zoneId !== undefined) {
    return { ok: false, message: `${value} has a zone index (%${v6.zoneId}): a host address is global, write it without the zone` };
  }
  if (v6.isIPv4MappedAddress()) {
    return { ok: false, message: `${value} is an IPv4-mapped IPv6 address: write it as ${v6.toIPv4Address().toString()}` };
  }
  return refused(value, v6.range()) ?? { ok: true, family: 'v6', text: v6.toRFC5952String() };
}

/**
 * A single address in a plain form (dotted decimal; lower-case hex groups, no embedded IPv4, zone or prefix):
 * its number and canonical text, without ipaddr.js; null for any other form (which ipaddr.js then reads).
 */
export function plainAddress(value: string): { family: 'v4' | 'v6'; value: bigint; text: string } | null {
  const dotted = dottedValue(value);
  if (dotted !== -1) return { family: 'v4', value: BigInt(dotted), text: value };
  if (!plainIpv6Groups(value, GROUPS)) return null;
  let number = 0n;
  for (const group of GROUPS) number = (number << 16n) | BigInt(group);
  return { family: 'v6', value: number, text: rfc5952(GROUPS) };
}

/** Parses `value` as a single host address; canonical text is dotted v4 or compressed lower-case v6. */
export function parseHostAddress(value: unknown): HostAddress {
  if (typeof value !== 'string') return { ok: false, message: `${shown(value)} is not an IP address: ${EXPECTED}` };
  return plainHostAddress(value) ?? hostAddressOf(value);
}

/** parseHostAddress by ipaddr.js's general parser alone: every form it takes. */
export function hostAddressOf(value: string): HostAddress {
  if (value.includes('/')) {
    return ipaddr.isValidCIDR(value)
      ? { ok: false, message: `${value}: a host address must be a single address, not a network` }
      : { ok: false, message: `${shown(value)} is not an IP address: ${EXPECTED}, without a prefix length` };
  }
  // ':' first: ipaddr.js validates by throwing, and an Error's stack for every IPv6 address of a 100,000-host
  // inventory cost seconds.
  if (!value.includes(':') && ipaddr.IPv4.isValidFourPartDecimal(value)) {
    const v4 = ipaddr.IPv4.parse(value);
    return refused(value, v4.range()) ?? { ok: true, family: 'v4', text: v4.toString() };
  }
  if (!ipaddr.IPv6.isValid(value)) return { ok: false, message: `${shown(value)} is not an IP address: ${EXPECTED}` };
  return v6Address(value, ipaddr.IPv6.parse(value));
}
