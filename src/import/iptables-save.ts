/**
 * `iptables-save` / `ip6tables-save` output (also `-c` counters) → the rules of the filter table's INPUT and
 * OUTPUT paths, user chains inlined where they are jumped to. Matches Palisade has become rule fields;
 * a rule with anything else (`-m recent`, `-m set`, negations, a foreign target) is kept as raw iptables
 * text; other tables and FORWARD are listed as not imported. Every malformed line is an error at file:line.
 */
import { parseCidr } from '../policy/address.ts';
import { ICMP_TYPES, ICMPV6_TYPES } from '../policy/icmp-types.ts';
import type { PortRange } from '../policy/types.ts';
import { MAX_LINE_CHARS, checkSize, importError, type ImportNote, type ImportedEntry, type ImportedPolicy, type ImportedProtocol, type ImportedRule, type Place } from './model.ts';

export interface IptablesOptions {
  file: string;
  /** uid → user name on the host (for `--uid-owner`), from its passwd file. */
  users?: ReadonlyMap<number, string>;
}

type Target =
  | { kind: 'verdict'; action: 'accept' | 'drop' | 'reject' }
  | { kind: 'log' }
  | { kind: 'return' }
  | { kind: 'jump'; chain: string; goto: boolean }
  | { kind: 'other'; name: string };

/** One `-A` line, its matches read as far as Palisade has them. */
interface Line {
  tokens: string[];
  /** The tokens without the target (`-j X ...`): what a jump's conditions add to the rules it reaches. */
  conditions: string[];
  protocol: ImportedProtocol | null;
  source: { cidr: string; family: 4 | 6 } | null;
  destination: { cidr: string; family: 4 | 6 } | null;
  iif: string | null;
  oif: string | null;
  dport: PortRange[] | null;
  sport: PortRange[] | null;
  uid: number | null;
  icmpType: string | null;
  states: string[] | null;
  comment: string | null;
  limit: ImportedRule['limit'];
  /** Why the line cannot be a Palisade rule; empty when it can. */
  unknown: string[];
  target: Target;
  place: Place;
}

interface Chain {
  policy: 'ACCEPT' | 'DROP' | null;
  lines: Line[];
  place: Place;
}

/** Splits an iptables-save argument line: blanks separate, double quotes group, backslash escapes. */
export function tokenize(text: string, place: Place): string[] {
  const tokens: string[] = [];
  let current = '';
  let inToken = false;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '\\' && i + 1 < text.length) {
      current += text[++i];
      inToken = true;
    } else if (ch === '"') {
      quoted = !quoted;
      inToken = true;
    } else if (!quoted && (ch === ' ' || ch === '\t')) {
      if (inToken) tokens.push(current);
      current = '';
      inToken = false;
    } else {
      current += ch;
      inToken = true;
    }
  }
  if (quoted) throw importError('unterminated double quote', place);
  if (inToken) tokens.push(current);
  return tokens;
}

const PROTOCOLS: ReadonlyMap<string, ImportedProtocol> = new Map([
  ['tcp', 'tcp'],
  ['6', 'tcp'],
  ['udp', 'udp'],
  ['17', 'udp'],
  ['icmp', 'icmp'],
  ['1', 'icmp'],
  ['icmpv6', 'icmpv6'],
  ['ipv6-icmp', 'icmpv6'],
  ['58', 'icmpv6'],
  ['all', 'all'],
  ['0', 'all'],
]);

const LIMIT_UNITS: Record<string, 'second' | 'minute' | 'hour' | 'day'> = { s: 'second', sec: 'second', second: 'second', m: 'minute', min: 'minute', minute: 'minute', h: 'hour', hour: 'hour', d: 'day', day: 'day' };

function portRange(text: string, place: Place): PortRange {
  const m = /^(\d{1,5})(?::(\d{1,5}))?$/.exec(text);
  const from = Number(m?.[1]);
  const to = m?.[2] === undefined ? from : Number(m[2]);
  if (m === null || from < 0 || to > 65535 || from > to) throw importError(`"${text}" is not a port or a port range (PORT or FROM:TO)`, place);
  return { from: Math.max(from, 1), to };
}

const portList = (text: string, place: Place): PortRange[] => text.split(',').map((p) => portRange(p, place));

function address(text: string, place: Place): { cidr: string; family: 4 | 6 } {
  let t = text;
  const slash = t.indexOf('/');
  /* iptables-save writes prefixes; an old dotted mask (`/255.255.0.0`) is turned into one. */
  if (slash !== -1 && t.slice(slash + 1).includes('.')) {
    const bits = t.slice(slash + 1).split('.').map(Number).map((n) => n.toString(2).padStart(8, '0')).join('');
    if (!/^1*0*$/.test(bits) || bits.length !== 32) throw importError(`"${text}": the mask is not a prefix`, place);
    t = `${t.slice(0, slash)}/${bits.indexOf('0') === -1 ? 32 : bits.indexOf('0')}`;
  }
  const parsed = parseCidr(t);
  if (parsed === null || !parsed.ok) throw importError(parsed?.message ?? `"${text}" is not an IP address or network`, place);
  return { cidr: parsed.cidr, family: parsed.family };
}

function icmpName(text: string, v6: boolean, place: Place): string | null {
  const table = v6 ? ICMPV6_TYPES : ICMP_TYPES;
  if (table.has(text)) return text;
  if (/^\d+$/.test(text)) {
    for (const [name, n] of table) if (String(n) === text) return name;
    return null;
  }
  if (/^\d+\/\d+$/.test(text)) return null;
  throw importError(`"${text}" is not an ICMP${v6 ? 'v6' : ''} type`, place);
}

function needValue(tokens: readonly string[], i: number, option: string, place: Place): string {
  const value = tokens[i + 1];
  if (value === undefined || value.startsWith('-')) throw importError(`${option} needs a value`, place);
  return value;
}

/** Reads one rule's arguments (after `-A CHAIN`). */
function parseLine(tokens: string[], place: Place, users: ReadonlyMap<number, string> | undefined): Line {
  const line: Line = {
    tokens,
    conditions: [],
    protocol: null,
    source: null,
    destination: null,
    iif: null,
    oif: null,
    dport: null,
    sport: null,
    uid: null,
    icmpType: null,
    states: null,
    comment: null,
    limit: null,
    unknown: [],
    target: { kind: 'other', name: '' },
    place,
  };
  let targetAt = -1;
  let limitBurst: number | null = null;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as string;
    if (targetAt !== -1) continue;
    const value = (): string => needValue(tokens, i++, t, place);
    switch (t) {
      case '!':
        line.unknown.push(`negated ${tokens[i + 1] ?? 'match'}`);
        break;
      case '-p':
      case '--protocol': {
        const v = value();
        const p = PROTOCOLS.get(v.toLowerCase());
        if (p === undefined) line.unknown.push(`protocol ${v}`);
        else line.protocol = p;
        break;
      }
      case '-s':
      case '--source':
        line.source = address(value(), place);
        break;
      case '-d':
      case '--destination':
        line.destination = address(value(), place);
        break;
      case '-i':
      case '--in-interface':
      case '-o':
      case '--out-interface': {
        const v = value();
        if (v.endsWith('+')) line.unknown.push(`interface wildcard ${v}`);
        else if (t.startsWith('-i') || t === '--in-interface') line.iif = v;
        else line.oif = v;
        break;
      }
      case '-m':
      case '--match': {
        const v = value();
        if (!['tcp', 'udp', 'icmp', 'icmp6', 'multiport', 'comment', 'conntrack', 'state', 'owner', 'limit'].includes(v)) line.unknown.push(`-m ${v}`);
        break;
      }
      case '--dport':
      case '--destination-port':
        line.dport = [portRange(value(), place)];
        break;
      case '--sport':
      case '--source-port':
        line.sport = [portRange(value(), place)];
        break;
      case '--dports':
      case '--destination-ports':
        line.dport = portList(value(), place);
        break;
      case '--sports':
      case '--source-ports':
        line.sport = portList(value(), place);
        break;
      case '--icmp-type':
      case '--icmpv6-type': {
        const v = value();
        const name = icmpName(v, t === '--icmpv6-type', place);
        if (name === null) line.unknown.push(`ICMP type ${v}`);
        else line.icmpType = name;
        break;
      }
      case '--comment':
        line.comment = value();
        break;
      case '--ctstate':
      case '--state':
        line.states = value().toUpperCase().split(',');
        break;
      case '--uid-owner': {
        const v = value();
        if (/^\d+$/.test(v)) line.uid = Number(v);
        else {
          const byName = [...(users ?? new Map<number, string>())].find(([, name]) => name === v);
          if (byName === undefined) line.unknown.push(`--uid-owner ${v}`);
          else line.uid = byName[0];
        }
        break;
      }
      case '--limit': {
        const v = value();
        const m = /^(\d+)\/([a-z]+)$/.exec(v);
        const unit = m === null ? undefined : LIMIT_UNITS[m[2] as string];
        if (m === null || unit === undefined || Number(m[1]) < 1) throw importError(`"${v}" is not a rate (N/second, N/minute, N/hour, N/day)`, place);
        line.limit = { rate: Number(m[1]), unit, burst: 5, per: 'rule' };
        break;
      }
      case '--limit-burst': {
        const v = value();
        if (!/^\d{1,6}$/.test(v) || Number(v) < 1) throw importError(`"${v}" is not a burst (a positive number)`, place);
        limitBurst = Number(v);
        break;
      }
      case '-j':
      case '--jump':
      case '-g':
      case '--goto':
        targetAt = i;
        line.target = targetOf(tokens, i, place);
        break;
      default:
        if (t.startsWith('-')) {
          line.unknown.push(t);
          if (tokens[i + 1] !== undefined && !tokens[i + 1]?.startsWith('-')) i++;
        } else throw importError(`unexpected "${t}" (an option starts with -)`, place);
    }
  }
  if (line.limit !== null && limitBurst !== null) line.limit.burst = limitBurst;
  line.conditions = targetAt === -1 ? [...tokens] : tokens.slice(0, targetAt);
  if (targetAt === -1) line.target = { kind: 'other', name: '' };
  return line;
}

function targetOf(tokens: readonly string[], at: number, place: Place): Target {
  const name = needValue(tokens, at, tokens[at] as string, place);
  const goto = tokens[at] === '-g' || tokens[at] === '--goto';
  switch (name) {
    case 'ACCEPT':
      return { kind: 'verdict', action: 'accept' };
    case 'DROP':
      return { kind: 'verdict', action: 'drop' };
    case 'REJECT':
      return { kind: 'verdict', action: 'reject' };
    case 'LOG':
      return { kind: 'log' };
    case 'RETURN':
      return { kind: 'return' };
    default:
      return { kind: 'jump', chain: name, goto };
  }
}

const BUILTIN_FILTER = ['INPUT', 'FORWARD', 'OUTPUT'];

/** A jump's conditions joined with a rule of the chain it reaches; null when they can never both hold. */
function combine(outer: Line, inner: Line): Line | null {
  const both = <T>(a: T | null, b: T | null, same: (x: T, y: T) => boolean): { value: T | null; conflict: boolean } =>
    a === null ? { value: b, conflict: false } : b === null ? { value: a, conflict: false } : { value: a, conflict: !same(a, b) };
  const eq = <T>(x: T, y: T): boolean => JSON.stringify(x) === JSON.stringify(y);
  const protocol = both(outer.protocol, inner.protocol, eq);
  if (protocol.conflict) return null;
  const merged: Line = { ...inner, tokens: [...outer.conditions, ...inner.tokens], conditions: [...outer.conditions, ...inner.conditions], unknown: [...outer.unknown, ...inner.unknown], protocol: protocol.value };
  const fields = ['source', 'destination', 'iif', 'oif', 'dport', 'sport', 'uid', 'icmpType', 'states', 'limit'] as const;
  for (const field of fields) {
    const r = both<unknown>(outer[field], inner[field], eq);
    if (r.conflict) merged.unknown.push(`${field} given both at ${outer.place.file}:${outer.place.line} and here`);
    (merged as unknown as Record<string, unknown>)[field] = r.value;
  }
  merged.comment = inner.comment ?? outer.comment;
  return merged;
}

const isEstablished = (states: readonly string[] | null): boolean =>
  states !== null && states.length === 2 && states.includes('ESTABLISHED') && states.includes('RELATED');

function entryOf(line: Line, direction: 'in' | 'out', family: 4 | 6, users: ReadonlyMap<number, string> | undefined, chainName: string): ImportedEntry {
  /* An unknown module's own options say nothing more than the module. */
  const unknown = line.unknown.some((u) => u.startsWith('-m ')) ? line.unknown.filter((u) => !u.startsWith('--')) : [...line.unknown];
  if (line.states !== null && !(line.states.length === 1 && line.states[0] === 'NEW') && !isEstablished(line.states)) unknown.push(`state ${line.states.join(',')}`);
  if (direction === 'in' && line.destination !== null) unknown.push('a destination address on an inbound rule (palisade matches every address of the host)');
  if (direction === 'out' && line.source !== null) unknown.push('a source address on an outbound rule (palisade matches every address of the host)');
  if (direction === 'in' && (line.oif !== null || line.uid !== null)) unknown.push('an outbound match on an inbound rule');
  if (direction === 'out' && line.iif !== null) unknown.push('an inbound match on an outbound rule');
  if ((line.dport !== null || line.sport !== null) && line.protocol !== 'tcp' && line.protocol !== 'udp') unknown.push('ports without -p tcp or -p udp');
  if (line.target.kind === 'other') unknown.push(line.target.name === '' ? 'no target' : `target ${line.target.name}`);
  const peer = direction === 'in' ? line.source : line.destination;
  const known = {
    direction,
    protocol: line.protocol ?? 'all',
    family,
    peers: peer === null ? [] : [peer.cidr],
    dport: line.dport,
    sport: line.sport,
    user: line.uid === null ? null : { uid: line.uid, name: users?.get(line.uid) ?? `uid${line.uid}` },
    interface: direction === 'in' ? line.iif : line.oif,
    icmpType: line.icmpType,
  };
  if (unknown.length > 0) {
    return { kind: 'raw', direction, rule: `-A ${chainName} ${line.tokens.map(quoteToken).join(' ')}`, reason: unknown.join(', '), decidesNew: line.states === null || line.states.includes('NEW'), known, place: line.place };
  }
  const target = line.target as Extract<Target, { kind: 'verdict' | 'log' }>;
  return { kind: 'rule', name: line.comment, action: target.kind === 'log' ? 'log' : target.action, limit: line.limit, place: line.place, ...known };
}

function quoteToken(token: string): string {
  return /^[\w./:,+@%=-]+$/.test(token) ? token : `"${token.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The lines of a base chain with every jump inlined, each with its conditions; notes for what cannot be. */
function flatten(chains: ReadonlyMap<string, Chain>, name: string, notes: ImportNote[], stack: string[] = []): Line[] {
  const chain = chains.get(name) as Chain;
  const out: Line[] = [];
  for (const [index, line] of chain.lines.entries()) {
    if (line.target.kind === 'return') {
      const last = index === chain.lines.length - 1;
      const bare = line.conditions.length === 0;
      if (!(last && bare)) notes.push({ place: line.place, message: `RETURN in chain ${name}: the rules after it are not imported (they apply only to packets it does not return)`, covered: false });
      if (!bare || !last) break;
      continue;
    }
    if (line.target.kind !== 'jump') {
      out.push(line);
      continue;
    }
    const target = line.target.chain;
    /* A target that is no chain of the file is an extension's (MASQUERADE, NFLOG, MARK...): kept raw. */
    if (!chains.has(target) && /^[A-Z][A-Z0-9_]*$/.test(target)) {
      out.push({ ...line, target: { kind: 'other', name: target } });
      continue;
    }
    if (!chains.has(target)) throw importError(`jump to chain "${target}", which this file does not declare`, line.place);
    if (stack.includes(target) || target === name) throw importError(`jump to chain "${target}" loops back to itself (${[...stack, name, target].join(' -> ')})`, line.place);
    if (stack.length >= 16) throw importError(`chains nested deeper than 16 at chain "${target}"`, line.place);
    if (line.target.goto) notes.push({ place: line.place, message: `goto ${target}: imported like a jump`, covered: false });
    for (const inner of flatten(chains, target, notes, [...stack, name])) {
      const merged = combine(line, inner);
      if (merged !== null) out.push(merged);
    }
  }
  return out;
}

interface Parsed {
  chains: Map<string, Chain>;
  notes: ImportNote[];
  family: 4 | 6;
}

function parseTables(text: string, options: IptablesOptions): Parsed {
  const { file } = options;
  checkSize(text, file);
  const chains = new Map<string, Chain>();
  const notes: ImportNote[] = [];
  const families = new Set<4 | 6>();
  let table: string | null = null;
  let sawFilter = false;
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const place = { file, line: index + 1 };
    if (raw.length > MAX_LINE_CHARS) throw importError(`line longer than ${MAX_LINE_CHARS} characters`, place);
    let line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      if (table !== null) throw importError(`table ${line.slice(1)} starts before table ${table}'s COMMIT`, place);
      table = line.slice(1);
      if (!/^(filter|nat|mangle|raw|security)$/.test(table)) throw importError(`unknown table "${table}" (filter, nat, mangle, raw, security)`, place);
      if (table === 'filter') sawFilter = true;
      continue;
    }
    if (table === null) throw importError('a rule or chain outside a table: expected a "*filter" line first', place);
    if (line === 'COMMIT') {
      table = null;
      continue;
    }
    if (line.startsWith(':')) {
      const m = /^:(\S+)\s+(\S+)(?:\s+\[\d+:\d+\])?$/.exec(line);
      if (m === null) throw importError('a chain line is ":NAME POLICY [packets:bytes]"', place);
      const [, name, policy] = m as unknown as [string, string, string];
      if (table !== 'filter') continue;
      if (!['ACCEPT', 'DROP', '-'].includes(policy)) throw importError(`chain policy "${policy}" (ACCEPT, DROP or - for a user chain)`, place);
      if (chains.has(name)) throw importError(`chain "${name}" declared twice`, place);
      chains.set(name, { policy: policy === '-' ? null : (policy as 'ACCEPT' | 'DROP'), lines: [], place });
      continue;
    }
    line = line.replace(/^\[\d+:\d+\]\s+/, '');
    const m = /^-A\s+(\S+)\s*(.*)$/.exec(line);
    if (m === null) throw importError(`expected "-A CHAIN ...", a ":CHAIN" line, "COMMIT" or a "*table" line, not "${line.slice(0, 40)}"`, place);
    const [, chainName, rest] = m as unknown as [string, string, string];
    if (table !== 'filter') {
      notes.push({ place, message: `table ${table}: not imported (palisade manages the filter table's input and output; this rule stays with the tool that wrote it)`, covered: false });
      continue;
    }
    const chain = chains.get(chainName);
    if (chain === undefined) throw importError(`rule in chain "${chainName}", which has no ":${chainName}" line before it`, place);
    const parsed = parseLine(tokenize(rest, place), place, options.users);
    for (const a of [parsed.source, parsed.destination]) if (a !== null) families.add(a.family);
    if (chainName === 'FORWARD') {
      notes.push({ place, message: 'FORWARD: not imported (routed and container traffic: see docs/adoption.md)', covered: false });
      continue;
    }
    chain.lines.push(parsed);
  }
  if (table !== null) throw importError(`table ${table} has no COMMIT`, { file, line: lines.length - (text.endsWith('\n') ? 1 : 0) });
  if (!sawFilter) throw importError('no "*filter" table: nothing to import', { file, line: 1 });
  if (families.size > 1) throw importError('IPv4 and IPv6 addresses in one file: import iptables-save and ip6tables-save output separately', { file, line: 1 });
  return { chains, notes, family: [...families][0] ?? 4 };
}

/** The base chains' ending: the policy, or an unconditional final DROP/REJECT under an ACCEPT policy. */
function ending(chain: Chain | undefined, entries: ImportedEntry[]): 'accept' | 'drop' | 'reject' {
  const last = entries.at(-1);
  const bare = (e: ImportedEntry): boolean => e.kind === 'rule' && e.protocol === 'all' && e.peers.length === 0 && e.interface === null && e.user === null && e.limit === null;
  if (last !== undefined && bare(last) && last.kind === 'rule' && (last.action === 'drop' || last.action === 'reject')) {
    entries.pop();
    return last.action;
  }
  return chain?.policy === 'DROP' ? 'drop' : 'accept';
}

export function parseIptablesSave(text: string, options: IptablesOptions): ImportedPolicy {
  const { chains, notes, family } = parseTables(text, options);
  for (const name of BUILTIN_FILTER) if (!chains.has(name)) chains.set(name, { policy: 'ACCEPT', lines: [], place: { file: options.file, line: 1 } });
  const path = (chain: 'INPUT' | 'OUTPUT', direction: 'in' | 'out'): { entries: ImportedEntry[]; end: 'accept' | 'drop' | 'reject' } => {
    const entries: ImportedEntry[] = [];
    for (const line of flatten(chains, chain, notes)) {
      const loopback = (direction === 'in' ? line.iif : line.oif) === 'lo';
      const accepts = line.target.kind === 'verdict' && line.target.action === 'accept';
      const bare = line.source === null && line.destination === null && line.protocol === null && line.unknown.length === 0 && line.dport === null && line.uid === null;
      if (accepts && bare && loopback && line.states === null) {
        notes.push({ place: line.place, message: 'loopback accepted: palisade\'s base rules do this', covered: true });
        continue;
      }
      if (accepts && bare && line.iif === null && line.oif === null && isEstablished(line.states)) {
        notes.push({ place: line.place, message: 'established and related accepted: palisade\'s base rules do this', covered: true });
        continue;
      }
      entries.push(entryOf(line, direction, family, options.users, chain));
    }
    return { entries, end: ending(chains.get(chain), entries) };
  };
  const input = path('INPUT', 'in');
  const output = path('OUTPUT', 'out');
  notes.sort((a, b) => a.place.line - b.place.line);
  return { tool: 'iptables-save', files: [options.file], input: input.end, output: output.end, entries: [...input.entries, ...output.entries], notes };
}
