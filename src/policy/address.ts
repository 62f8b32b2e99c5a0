/** IP addresses and networks in policy text, canonicalised with their prefix (`10.4.76.2` → `10.4.76.2/32`). */
import ipaddr from 'ipaddr.js';

export type AddressResult = { ok: true; family: 4 | 6; cidr: string } | { ok: false; message: string };

/** Text that is meant as an address: dotted digits, hex groups with two or more colons, or a name with a `/`. */
function looksLikeAddress(text: string): boolean {
  const v6ish = /^[\da-f]*:[^\s()*]*$/i.test(text) && (text.includes('::') || text.split(':').length > 2);
  return /^[\d.]+(\/.*)?$/.test(text) || v6ish || (text.includes('/') && !/[\s()*:]/.test(text));
}

function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (!text.includes('%') && ipaddr.IPv6.isValid(text)) return ipaddr.IPv6.parse(text);
  return null;
}

/** Parses `ADDRESS` or `ADDRESS/PREFIX`; null when the text does not look like an address at all. */
export function parseCidr(text: string): AddressResult | null {
  if (!looksLikeAddress(text)) return null;
  const slash = text.indexOf('/');
  const addrText = slash === -1 ? text : text.slice(0, slash);
  const address = parseAddress(addrText);
  if (address === null) return { ok: false, message: `"${text}" is not a valid IP address or network` };
  const family = address.kind() === 'ipv4' ? 4 : 6;
  const max = family === 4 ? 32 : 128;
  const prefixText = slash === -1 ? String(max) : text.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > max) {
    return { ok: false, message: `"${text}": the prefix length must be a number from 0 to ${max}` };
  }
  const network = family === 4 ? ipaddr.IPv4.networkAddressFromCIDR(`${addrText}/${prefix}`) : ipaddr.IPv6.networkAddressFromCIDR(`${addrText}/${prefix}`);
  if (network.toString() !== address.toString()) {
    return { ok: false, message: `${text} has host bits set; did you mean ${network.toString()}/${prefix}?` };
  }
  return { ok: true, family, cidr: `${address.toString()}/${prefix}` };
}
