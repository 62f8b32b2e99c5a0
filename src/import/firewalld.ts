/**
 * firewalld zone files (`/etc/firewalld/zones/NAME.xml`): services, ports, protocols, source ports, ICMP
 * blocks and rich rules, in the order firewalld's zone chains evaluate them: rich rules of negative
 * priority, then (priority 0) log, deny (drop, reject, ICMP blocks) and allow (accept rich rules, services,
 * ports), then positive priorities, then the zone's target. Zone `source` addresses limit every rule to
 * them; a zone bound to one interface limits its rules to it. Forwarding and NAT are listed as not imported.
 */
import { parseCidr } from '../policy/address.ts';
import { ICMP_TYPES, ICMPV6_TYPES } from '../policy/icmp-types.ts';
import type { PortRange } from '../policy/types.ts';
import { FIREWALLD_SERVICES } from './firewalld-services.ts';
import { checkSize, importError, type ImportNote, type ImportedPolicy, type ImportedRule, type Place } from './model.ts';
import { parseXml, type XmlElement } from './xml.ts';

type Family = 4 | 6;
type Band = 'log' | 'deny' | 'allow';

/** What a zone element or rich rule matches, before it is split per protocol and family. */
export interface Match {
  protocol: 'tcp' | 'udp' | 'icmp' | 'all';
  dport: PortRange[] | null;
  sport: PortRange[] | null;
  icmpType: string | null;
}

/** An entry of the zone in firewalld's terms: its chain band and priority, families, sources, matches, action. */
export interface Pending {
  priority: number;
  band: Band;
  action: ImportedRule['action'];
  families: Family[];
  peers: string[] | null;
  matches: Match[];
  limit: ImportedRule['limit'];
  name: string | null;
  place: Place;
  /** The ICMP a zone with the default target accepts after its rules. */
  zoneIcmp?: true;
}

function portRange(text: string, place: Place): PortRange {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  const from = Number(m?.[1]);
  const to = m?.[2] === undefined ? from : Number(m[2]);
  if (m === null || from < 1 || to > 65535 || from > to) throw importError(`"${text}" is not a port or a range (8080, 60000-61000)`, place);
  return { from, to };
}

function attr(el: XmlElement, name: string): string {
  const value = el.attributes.get(name);
  if (value === undefined) throw importError(`<${el.name}> needs the attribute ${name}`, el.place);
  return value;
}

function portMatch(el: XmlElement, key: 'dport' | 'sport', notes: ImportNote[]): Match[] {
  const protocol = attr(el, 'protocol');
  if (protocol !== 'tcp' && protocol !== 'udp') {
    notes.push({ place: el.place, message: `${el.name} ${protocol}: palisade matches ports of tcp and udp only; not imported`, covered: false });
    return [];
  }
  const range = portRange(attr(el, 'port'), el.place);
  return [{ protocol, dport: key === 'dport' ? [range] : null, sport: key === 'sport' ? [range] : null, icmpType: null }];
}

function serviceMatch(el: XmlElement, notes: ImportNote[]): Match[] {
  const name = attr(el, 'name');
  const ports = FIREWALLD_SERVICES.get(name);
  if (ports === undefined) {
    notes.push({ place: el.place, message: `service ${name}: not in palisade's list of firewalld services; not imported (give its ports as a port element, from /usr/lib/firewalld/services/${name}.xml)`, covered: false });
    return [];
  }
  return ports.split(' ').map((p) => {
    const [range, protocol] = p.split('/') as [string, 'tcp' | 'udp'];
    return { protocol, dport: [portRange(range, el.place)], sport: null, icmpType: null };
  });
}

function icmpMatch(el: XmlElement, notes: ImportNote[]): Match[] {
  const name = attr(el, 'name');
  if (!ICMP_TYPES.has(name) && !ICMPV6_TYPES.has(name)) {
    notes.push({ place: el.place, message: `ICMP type ${name}: not one palisade knows; not imported`, covered: false });
    return [];
  }
  return [{ protocol: 'icmp', dport: null, sport: null, icmpType: name }];
}

function protocolMatch(el: XmlElement, notes: ImportNote[]): Match[] {
  const value = attr(el, 'value');
  if (value === 'tcp' || value === 'udp' || value === 'icmp') return [{ protocol: value, dport: null, sport: null, icmpType: null }];
  notes.push({ place: el.place, message: `protocol ${value}: not imported`, covered: false });
  return [];
}

const LIMIT_UNITS: Record<string, 'second' | 'minute' | 'hour' | 'day'> = { s: 'second', m: 'minute', h: 'hour', d: 'day' };

function limitOf(el: XmlElement | undefined): ImportedRule['limit'] {
  if (el === undefined) return null;
  const value = attr(el, 'value');
  const m = /^(\d{1,9})\/([smhd])$/.exec(value);
  if (m === null || Number(m[1]) < 1) throw importError(`limit "${value}": expected RATE/s, /m, /h or /d`, el.place);
  return { rate: Number(m[1]), unit: LIMIT_UNITS[m[2] as string] as 'second', burst: 5, per: 'rule' };
}

function address(text: string, place: Place): { cidr: string; family: Family } {
  const parsed = parseCidr(text);
  if (parsed === null || !parsed.ok) throw importError(parsed?.message ?? `"${text}" is not an address`, place);
  return { cidr: parsed.cidr, family: parsed.family };
}

/** One `<rule>`: its pending entries (log first, then the action). */
function richRule(el: XmlElement, zonePeers: string[] | null, notes: ImportNote[]): Pending[] {
  const familyText = el.attributes.get('family');
  if (familyText !== undefined && familyText !== 'ipv4' && familyText !== 'ipv6') throw importError(`rule family "${familyText}": ipv4 or ipv6`, el.place);
  const priorityText = el.attributes.get('priority') ?? '0';
  if (!/^-?\d{1,5}$/.test(priorityText) || Math.abs(Number(priorityText)) > 32767) throw importError(`rule priority "${priorityText}": a number from -32768 to 32767`, el.place);
  let families: Family[] = familyText === 'ipv4' ? [4] : familyText === 'ipv6' ? [6] : [4, 6];
  let peers = zonePeers;
  const matches: Match[] = [];
  let log: XmlElement | undefined;
  let action: XmlElement | undefined;
  for (const child of el.children) {
    switch (child.name) {
      case 'source': {
        if (child.attributes.get('invert')?.toLowerCase() === 'true' || !child.attributes.has('address')) {
          notes.push({ place: child.place, message: 'rich rule with an inverted, ipset or MAC source: not imported', covered: false });
          return [];
        }
        const a = address(attr(child, 'address'), child.place);
        peers = [a.cidr];
        families = families.filter((f) => f === a.family);
        break;
      }
      case 'destination':
        notes.push({ place: child.place, message: 'rich rule destination: palisade\'s inbound rules match every address of the host; left out of the match', covered: false });
        break;
      case 'service':
        matches.push(...serviceMatch(child, notes));
        break;
      case 'port':
        matches.push(...portMatch(child, 'dport', notes));
        break;
      case 'source-port':
        matches.push(...portMatch(child, 'sport', notes));
        break;
      case 'protocol':
        matches.push(...protocolMatch(child, notes));
        break;
      case 'icmp-block':
      case 'icmp-type':
        matches.push(...icmpMatch(child, notes));
        if (child.name === 'icmp-block') action = { name: 'reject', attributes: new Map(), children: [], text: '', place: child.place };
        break;
      case 'log':
      case 'nflog':
        log = child;
        break;
      case 'accept':
      case 'reject':
      case 'drop':
        action = child;
        break;
      case 'audit':
        notes.push({ place: child.place, message: 'audit: not imported (palisade logs with action: log, or mode: audit)', covered: false });
        break;
      default:
        notes.push({ place: child.place, message: `rich rule element <${child.name}>: not imported; the rule is left out`, covered: false });
        return [];
    }
  }
  const matchesOrAll = el.children.some((c) => ['service', 'port', 'source-port', 'protocol', 'icmp-block', 'icmp-type'].includes(c.name)) ? matches : [{ protocol: 'all' as const, dport: null, sport: null, icmpType: null }];
  const priority = Number(priorityText);
  const out: Pending[] = [];
  if (log !== undefined) out.push({ priority, band: 'log', action: 'log', families, peers, matches: matchesOrAll, limit: limitOf(log.children.find((c) => c.name === 'limit')), name: null, place: log.place });
  if (action !== undefined) {
    const verdict = action.name as 'accept' | 'reject' | 'drop';
    out.push({ priority, band: verdict === 'accept' ? 'allow' : 'deny', action: verdict, families, peers, matches: matchesOrAll, limit: limitOf(action.children.find((c) => c.name === 'limit')), name: null, place: el.place });
  }
  return out;
}

const BAND_ORDER: Record<Band, number> = { log: 0, deny: 1, allow: 2 };

/** A zone as firewalld evaluates it: entries in its order, the zone's target, the interface it is bound to. */
export interface FirewalldZone {
  file: string;
  pending: Pending[];
  target: 'accept' | 'drop' | 'reject';
  /** The default target accepts ICMP that no block refused. */
  defaultTarget: boolean;
  iface: string | null;
  notes: ImportNote[];
}

export function readFirewalldZone(text: string, file: string): FirewalldZone {
  checkSize(text, file);
  const zone = parseXml(text, file);
  if (zone.name !== 'zone') throw importError(`the root element is <${zone.name}>: a firewalld zone file has <zone>`, zone.place);
  const notes: ImportNote[] = [];
  const target = zone.attributes.get('target') ?? 'default';
  if (!['default', 'ACCEPT', 'DROP', '%%REJECT%%', 'REJECT'].includes(target)) throw importError(`zone target "${target}": default, ACCEPT, DROP or %%REJECT%%`, zone.place);
  const sources = zone.children.filter((c) => c.name === 'source');
  const zonePeers = sources.length === 0 ? null : sources.flatMap((s) => (s.attributes.has('address') ? [address(attr(s, 'address'), s.place).cidr] : []));
  for (const s of sources) if (!s.attributes.has('address')) notes.push({ place: s.place, message: 'zone source by ipset or MAC: not imported', covered: false });
  const interfaces = zone.children.filter((c) => c.name === 'interface').map((c) => attr(c, 'name'));
  const iface = interfaces.length === 1 ? (interfaces[0] as string) : null;
  if (interfaces.length > 1) notes.push({ place: zone.place, message: `zone bound to ${interfaces.length} interfaces (${interfaces.join(', ')}): imported for every interface`, covered: false });
  const pending: Pending[] = [];
  const allow = (el: XmlElement, matches: Match[], action: ImportedRule['action'] = 'accept', band: Band = 'allow'): void => {
    if (matches.length > 0) pending.push({ priority: 0, band, action, families: [4, 6], peers: zonePeers, matches, limit: null, name: null, place: el.place });
  };
  for (const child of zone.children) {
    switch (child.name) {
      case 'short':
      case 'description':
      case 'source':
      case 'interface':
        break;
      case 'service':
        allow(child, serviceMatch(child, notes));
        break;
      case 'port':
        allow(child, portMatch(child, 'dport', notes));
        break;
      case 'source-port':
        allow(child, portMatch(child, 'sport', notes));
        break;
      case 'protocol':
        allow(child, protocolMatch(child, notes));
        break;
      case 'icmp-block':
        allow(child, icmpMatch(child, notes), 'reject', 'deny');
        break;
      case 'rule':
        pending.push(...richRule(child, zonePeers, notes));
        break;
      case 'forward':
      case 'masquerade':
      case 'forward-port':
      case 'source-port-forward':
        notes.push({ place: child.place, message: `${child.name}: routed traffic and NAT are not imported (see docs/adoption.md)`, covered: false });
        break;
      case 'icmp-block-inversion':
        notes.push({ place: child.place, message: 'icmp-block-inversion: not imported; the ICMP blocks are imported as blocks', covered: false });
        break;
      default:
        notes.push({ place: child.place, message: `<${child.name}>: not imported`, covered: false });
    }
  }
  /* firewalld accepts ICMP in a zone with the default target unless it is blocked. */
  if (target === 'default') {
    pending.push({ priority: 0, band: 'allow', action: 'accept', families: [4, 6], peers: zonePeers, matches: [{ protocol: 'icmp', dport: null, sport: null, icmpType: null }], limit: null, name: 'ICMP (firewalld accepts it in a zone with the default target)', place: zone.place, zoneIcmp: true });
  }
  const sorted = pending
    .map((p, i) => ({ p, i }))
    .sort((a, b) => {
      const rank = (p: Pending): number => (p.priority < 0 ? -1 : p.priority > 0 ? 1 : 0);
      return rank(a.p) - rank(b.p) || (a.p.priority !== 0 || b.p.priority !== 0 ? a.p.priority - b.p.priority : BAND_ORDER[a.p.band] - BAND_ORDER[b.p.band]) || a.i - b.i;
    })
    .map(({ p }) => p);
  const ending = target === 'ACCEPT' ? 'accept' : target === 'DROP' ? 'drop' : 'reject';
  if (zonePeers !== null) notes.push({ place: zone.place, message: 'zone bound to source addresses: only its rules are imported; traffic from other sources meets the other zones, which are not in this file', covered: false });
  return { file, pending: sorted, target: ending, defaultTarget: target === 'default', iface, notes };
}

export function parseFirewalldZone(text: string, file: string): ImportedPolicy {
  const { pending: sorted, target: ending, iface, notes } = readFirewalldZone(text, file);
  const entries: ImportedRule[] = [];
  for (const p of sorted) {
    const anyPeer = p.peers === null || p.peers.length === 0;
    const portsOnly = p.matches.every((m) => m.protocol !== 'icmp');
    const families: Array<Family | 'both'> = anyPeer && portsOnly && p.families.length === 2 ? ['both'] : p.families;
    for (const family of families) {
      const peers = (p.peers ?? []).filter((c) => (c.includes(':') ? 6 : 4) === family);
      if (p.peers !== null && p.peers.length > 0 && peers.length === 0) continue;
      for (const m of p.matches) {
        const protocol = m.protocol === 'icmp' && family === 6 ? 'icmpv6' : m.protocol;
        if (m.icmpType !== null && !(family === 6 ? ICMPV6_TYPES : ICMP_TYPES).has(m.icmpType)) continue;
        entries.push({ kind: 'rule', name: p.name, direction: 'in', action: p.action, protocol, family, peers, dport: m.dport, sport: m.sport, user: null, interface: iface, icmpType: m.icmpType, limit: p.limit, place: p.place });
      }
    }
  }
  return { tool: 'firewalld', files: [file], input: ending, output: 'accept', entries, notes };
}
