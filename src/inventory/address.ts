/** One host address from an inventory: parsed, classified and canonicalised with ipaddr.js. */
import ipaddr from 'ipaddr.js';

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

/** Dotted decimal without leading zeros: what ipaddr.js's isValidFourPartDecimal takes when each part is at most 255. */
const FOUR_PART_DECIMAL = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;
/** Lower-case hex groups and colons only: no embedded IPv4, no zone, no prefix. */
const PLAIN_IPV6 = /^[0-9a-f:]{2,39}$/;
const GROUP = /^[0-9a-f]{1,4}$/;

function groups(text: string): number[] | null {
  if (text === '') return [];
  const parts = text.split(':');
  return parts.every((part) => GROUP.test(part)) ? parts.map((part) => parseInt(part, 16)) : null;
}

/** The eight groups of a plain IPv6 address (at most one `::`, standing for two groups or more); null: anything else. */
function plainIpv6Parts(value: string): number[] | null {
  if (!PLAIN_IPV6.test(value)) return null;
  const gap = value.indexOf('::');
  if (gap === -1) {
    const all = groups(value);
    return all !== null && all.length === 8 ? all : null;
  }
  if (value.indexOf('::', gap + 1) !== -1) return null;
  const head = groups(value.slice(0, gap));
  const tail = groups(value.slice(gap + 2));
  if (head === null || tail === null || head.length + tail.length > 6) return null;
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/**
 * The common forms (dotted decimal, lower-case hex groups) without ipaddr.js's general parser, which costs
 * seconds over a 100,000-host inventory; the same result as hostAddressOf, or null for it to decide.
 */
function plainHostAddress(value: string): HostAddress | null {
  const v4 = FOUR_PART_DECIMAL.exec(value);
  if (v4 !== null) {
    const octets = [Number(v4[1]), Number(v4[2]), Number(v4[3]), Number(v4[4])];
    if (octets.some((octet) => octet > 255)) return null;
    return refused(value, new ipaddr.IPv4(octets).range()) ?? { ok: true, family: 'v4', text: value };
  }
  const parts = plainIpv6Parts(value);
  if (parts === null) return null;
  return v6Address(value, new ipaddr.IPv6(parts));
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

/** Parses `value` as a single host address; canonical text is dotted v4 or compressed lower-case v6. */
export function parseHostAddress(value: unknown): HostAddress {
  if (typeof value !== 'string') return { ok: false, message: `${JSON.stringify(value)} is not an IP address: ${EXPECTED}` };
  return plainHostAddress(value) ?? hostAddressOf(value);
}

/** parseHostAddress by ipaddr.js's general parser alone: every form it takes. */
export function hostAddressOf(value: string): HostAddress {
  if (value.includes('/')) {
    return ipaddr.isValidCIDR(value)
      ? { ok: false, message: `${value}: a host address must be a single address, not a network` }
      : { ok: false, message: `"${value}" is not an IP address: ${EXPECTED}, without a prefix length` };
  }
  // ':' first: ipaddr.js validates by throwing, and an Error's stack for every IPv6 address of a 100,000-host
  // inventory cost seconds.
  if (!value.includes(':') && ipaddr.IPv4.isValidFourPartDecimal(value)) {
    const v4 = ipaddr.IPv4.parse(value);
    return refused(value, v4.range()) ?? { ok: true, family: 'v4', text: v4.toString() };
  }
  if (!ipaddr.IPv6.isValid(value)) return { ok: false, message: `"${value}" is not an IP address: ${EXPECTED}` };
  return v6Address(value, ipaddr.IPv6.parse(value));
}
