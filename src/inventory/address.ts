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

/** Parses `value` as a single host address; canonical text is dotted v4 or compressed lower-case v6. */
export function parseHostAddress(value: unknown): HostAddress {
  if (typeof value !== 'string') return { ok: false, message: `${JSON.stringify(value)} is not an IP address: ${EXPECTED}` };
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
  const v6 = ipaddr.IPv6.parse(value);
  if (v6.zoneId !== undefined) {
    return { ok: false, message: `${value} has a zone index (%${v6.zoneId}): a host address is global, write it without the zone` };
  }
  if (v6.isIPv4MappedAddress()) {
    return { ok: false, message: `${value} is an IPv4-mapped IPv6 address: write it as ${v6.toIPv4Address().toString()}` };
  }
  return refused(value, v6.range()) ?? { ok: true, family: 'v6', text: v6.toRFC5952String() };
}
