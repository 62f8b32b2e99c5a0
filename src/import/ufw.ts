/**
 * ufw: its rules files (`/etc/ufw/user.rules`, `user6.rules`), read from the `### tuple ###` lines ufw writes
 * for every rule (its own record of `ufw allow/deny/reject/limit`), or the output of `ufw status [verbose|numbered]`.
 * `limit` is ufw's 6 new connections per 30 s per source, then reject: a per-source rate limit (12/minute,
 * burst 6) followed by a reject of the same traffic. Route (forward) rules are listed as not imported.
 */
import { parseCidr } from '../policy/address.ts';
import type { PortRange } from '../policy/types.ts';
import { MAX_LINE_CHARS, checkSize, importError, type ImportNote, type ImportedEntry, type ImportedPolicy, type ImportedProtocol, type ImportedRule, type Place } from './model.ts';

/** Application profiles of Debian's packages (openssh-server, nginx, apache2, postfix, ufw's own) as `ufw status` names them. */
const APPS: ReadonlyMap<string, { ports: PortRange[]; protocol: 'tcp' | 'udp' | 'all' }> = new Map([
  ['openssh', { ports: [{ from: 22, to: 22 }], protocol: 'tcp' }],
  ['nginx http', { ports: [{ from: 80, to: 80 }], protocol: 'tcp' }],
  ['nginx https', { ports: [{ from: 443, to: 443 }], protocol: 'tcp' }],
  ['nginx full', { ports: [{ from: 80, to: 80 }, { from: 443, to: 443 }], protocol: 'tcp' }],
  ['nginx quic', { ports: [{ from: 443, to: 443 }], protocol: 'udp' }],
  ['apache', { ports: [{ from: 80, to: 80 }], protocol: 'tcp' }],
  ['apache secure', { ports: [{ from: 443, to: 443 }], protocol: 'tcp' }],
  ['apache full', { ports: [{ from: 80, to: 80 }, { from: 443, to: 443 }], protocol: 'tcp' }],
  ['www', { ports: [{ from: 80, to: 80 }], protocol: 'tcp' }],
  ['www secure', { ports: [{ from: 443, to: 443 }], protocol: 'tcp' }],
  ['www full', { ports: [{ from: 80, to: 80 }, { from: 443, to: 443 }], protocol: 'tcp' }],
  ['www cache', { ports: [{ from: 8080, to: 8080 }], protocol: 'tcp' }],
  ['postfix', { ports: [{ from: 25, to: 25 }], protocol: 'tcp' }],
  ['postfix smtps', { ports: [{ from: 465, to: 465 }], protocol: 'tcp' }],
  ['postfix submission', { ports: [{ from: 587, to: 587 }], protocol: 'tcp' }],
  ['dns', { ports: [{ from: 53, to: 53 }], protocol: 'all' }],
  ['bind9', { ports: [{ from: 53, to: 53 }], protocol: 'all' }],
  ['samba', { ports: [{ from: 137, to: 138 }, { from: 139, to: 139 }, { from: 445, to: 445 }], protocol: 'all' }],
  ['cups', { ports: [{ from: 631, to: 631 }], protocol: 'all' }],
]);

type Action = 'allow' | 'deny' | 'reject' | 'limit';

interface UfwRule {
  action: Action;
  log: boolean;
  /** `all` for ufw's `any`. */
  protocol: 'tcp' | 'udp' | 'all' | 'other';
  dport: PortRange[] | null;
  sport: PortRange[] | null;
  /** The remote side: the source of an inbound rule, the destination of an outbound one. */
  peer: string | null;
  /** The local side, when ufw names one (`to 10.0.0.5`): palisade matches every address of the host. */
  local: string | null;
  direction: 'in' | 'out';
  interface: string | null;
  family: 4 | 6;
  comment: string | null;
  place: Place;
}

function ports(text: string, place: Place): PortRange[] | null {
  if (text === 'any') return null;
  return text.split(',').map((p) => {
    const m = /^(\d{1,5})(?::(\d{1,5}))?$/.exec(p);
    const from = Number(m?.[1]);
    const to = m?.[2] === undefined ? from : Number(m[2]);
    if (m === null || from < 1 || to > 65535 || from > to) throw importError(`"${text}" is not a port list (22, 80,443, 60000:61000 or any)`, place);
    return { from, to };
  });
}

function address(text: string, place: Place): { cidr: string; family: 4 | 6 } | null {
  const parsed = parseCidr(text);
  if (parsed === null || !parsed.ok) throw importError(parsed?.message ?? `"${text}" is not an address`, place);
  return parsed.cidr === '0.0.0.0/0' || parsed.cidr === '::/0' ? null : { cidr: parsed.cidr, family: parsed.family };
}

function protocolOf(text: string): UfwRule['protocol'] {
  return text === 'any' ? 'all' : text === 'tcp' || text === 'udp' ? text : 'other';
}

function actionOf(text: string, place: Place): { action: Action; log: boolean; route: boolean } {
  const route = text.startsWith('route:');
  const m = /^(allow|deny|reject|limit)(?:_(log|log-all))?$/.exec(route ? text.slice(6) : text);
  if (m === null) throw importError(`"${text}" is not a ufw action (allow, deny, reject, limit, with _log or _log-all)`, place);
  return { action: m[1] as Action, log: m[2] !== undefined, route };
}

function hexComment(hex: string, place: Place): string {
  if (!/^([\da-f]{2})*$/i.test(hex)) throw importError('comment= is not hexadecimal', place);
  return Buffer.from(hex, 'hex').toString('utf8');
}

/** `### tuple ### ACTION PROTO DPORT DST SPORT SRC [DAPP SAPP] DIRECTION[_IFACE] [comment=HEX]`, as ufw writes it. */
function parseTuple(text: string, place: Place, notes: ImportNote[]): UfwRule | null {
  let body = text;
  let comment: string | null = null;
  const at = body.indexOf(' comment=');
  if (at !== -1) {
    comment = hexComment(body.slice(at + 9).trim(), place);
    body = body.slice(0, at);
  }
  const f = body.trim().split(/\s+/);
  if (f.length !== 7 && f.length !== 9) throw importError(`a ufw tuple has 7 or 9 fields (action proto dport dst sport src [dapp sapp] direction), not ${f.length}`, place);
  const [actionText, proto, dport, dst, sport, src] = f as [string, string, string, string, string, string];
  const { action, log, route } = actionOf(actionText, place);
  const directionText = f.at(-1) as string;
  const m = /^(in|out)(?:_([\w.@-]{1,15}))?$/.exec(directionText);
  if (route) {
    notes.push({ place, message: 'ufw route rule (forwarded traffic): not imported, see docs/adoption.md', covered: false });
    return null;
  }
  if (m === null) throw importError(`"${directionText}" is not a direction (in, out, in_IFACE, out_IFACE)`, place);
  const direction = m[1] as 'in' | 'out';
  const remote = address(direction === 'in' ? src : dst, place);
  const local = address(direction === 'in' ? dst : src, place);
  const family = (remote?.family ?? local?.family ?? (src.includes(':') ? 6 : 4)) as 4 | 6;
  return {
    action,
    log,
    protocol: protocolOf(proto),
    dport: ports(dport, place),
    sport: ports(sport, place),
    peer: remote?.cidr ?? null,
    local: local?.cidr ?? null,
    direction,
    interface: m[2] ?? null,
    family,
    comment,
    place,
  };
}

/** ICMP ufw's before.rules and before6.rules accept ahead of every user rule (ping, and the errors a connection needs). */
const FRAMEWORK_ICMP: Record<4 | 6, string[]> = {
  4: ['destination-unreachable', 'time-exceeded', 'parameter-problem', 'echo-request'],
  6: ['destination-unreachable', 'packet-too-big', 'time-exceeded', 'parameter-problem', 'echo-request'],
};

function frameworkIcmp(families: ReadonlyArray<4 | 6>, file: string, notes: ImportNote[]): ImportedRule[] {
  const place = { file, line: 1 };
  notes.push({ place, message: `ufw accepts ICMP ${FRAMEWORK_ICMP[4].join(', ')} (and for IPv6 packet-too-big) before its user rules (before.rules): imported as the first rules`, covered: true });
  return families.flatMap((family) =>
    FRAMEWORK_ICMP[family].map((icmpType): ImportedRule => ({
      kind: 'rule',
      name: `ufw before${family === 6 ? '6' : ''}.rules: ${icmpType}`,
      direction: 'in',
      action: 'accept',
      protocol: family === 4 ? 'icmp' : 'icmpv6',
      family,
      peers: [],
      dport: null,
      sport: null,
      user: null,
      interface: null,
      icmpType,
      limit: null,
      place,
    })),
  );
}

/** The rules ufw would evaluate for one of its rules (two for limit). */
function entriesOf(r: UfwRule, notes: ImportNote[]): ImportedEntry[] {
  if (r.protocol === 'other') {
    notes.push({ place: r.place, message: 'a protocol other than tcp, udp or any: not imported', covered: false });
    return [];
  }
  if (r.local !== null) notes.push({ place: r.place, message: `local address ${r.local}: palisade's rules match every address of the host`, covered: false });
  if (r.log) notes.push({ place: r.place, message: 'ufw logs this rule\'s packets: palisade logs only what it drops (or use action: log)', covered: false });
  const base: Omit<ImportedRule, 'action' | 'limit'> = {
    kind: 'rule',
    name: r.comment,
    direction: r.direction,
    protocol: r.protocol as ImportedProtocol,
    family: r.family,
    peers: r.peer === null ? [] : [r.peer],
    dport: r.dport,
    sport: r.sport,
    user: null,
    interface: r.interface,
    icmpType: null,
    place: r.place,
  };
  /* ufw gives `any` with ports to both tcp and udp. */
  const split = base.protocol === 'all' && (base.dport !== null || base.sport !== null) ? (['tcp', 'udp'] as const).map((protocol) => ({ ...base, protocol })) : [base];
  return split.flatMap((b): ImportedRule[] => {
    switch (r.action) {
      case 'allow':
        return [{ ...b, action: 'accept', limit: null }];
      case 'deny':
        return [{ ...b, action: 'drop', limit: null }];
      case 'reject':
        return [{ ...b, action: 'reject', limit: null }];
      case 'limit':
        return [
          { ...b, action: 'accept', limit: { rate: 12, unit: 'minute', burst: 6, per: 'source' } },
          { ...b, name: b.name === null ? null : `${b.name} (over the limit)`, action: 'reject', limit: null },
        ];
    }
  });
}

const policyOf = (word: string): 'accept' | 'drop' | 'reject' => (word === 'allow' ? 'accept' : word === 'reject' ? 'reject' : 'drop');

function lines(text: string, file: string): Array<{ text: string; place: Place }> {
  checkSize(text, file);
  return text.split('\n').map((t, i) => {
    const place = { file, line: i + 1 };
    if (t.length > MAX_LINE_CHARS) throw importError(`line longer than ${MAX_LINE_CHARS} characters`, place);
    return { text: t.replace(/\r$/, ''), place };
  });
}

const DEFAULTS_NOTE = 'ufw\'s defaults are not in its rules files: deny incoming, allow outgoing assumed (as /etc/default/ufw ships); check DEFAULT_INPUT_POLICY there';

/** `/etc/ufw/user.rules` or `user6.rules`. */
export function parseUfwRulesFile(text: string, file: string): ImportedPolicy {
  const notes: ImportNote[] = [{ place: { file, line: 1 }, message: DEFAULTS_NOTE, covered: false }];
  const rules: UfwRule[] = [];
  let sawFilter = false;
  for (const { text: line, place } of lines(text, file)) {
    const t = line.trim();
    if (t === '*filter') sawFilter = true;
    const tuple = /^### tuple ###\s*(.*)$/.exec(t);
    if (tuple !== null) {
      const rule = parseTuple(tuple[1] as string, place, notes);
      if (rule !== null) rules.push(rule);
      continue;
    }
    /* ufw's expansion of each tuple into iptables lines, its chain declarations and section comments. */
    if (t === '' || t.startsWith('#') || t.startsWith('-A ') || t.startsWith('-I ') || t.startsWith(':') || t.startsWith('*') || t === 'COMMIT') continue;
    throw importError(`not a line of a ufw rules file: "${t.slice(0, 40)}"`, place);
  }
  if (!sawFilter) throw importError('not a ufw rules file (no "*filter" line): give /etc/ufw/user.rules or the output of ufw status verbose', { file, line: 1 });
  const family = /^-A ufw6-/m.test(text) || rules.some((r) => r.family === 6) ? 6 : 4;
  const icmp = frameworkIcmp([family], file, notes);
  return { tool: 'ufw', files: [file], input: 'drop', output: 'accept', entries: [...icmp, ...rules.flatMap((r) => entriesOf(r, notes))], notes };
}

/** One side of a `ufw status` row: `Anywhere`, `22/tcp`, `10.0.0.5 8443/tcp`, `OpenSSH`, `Anywhere on eth1`, with ` (v6)`. */
function side(text: string, place: Place): { address: string | null; ports: PortRange[] | null; protocol: 'tcp' | 'udp' | 'all'; interface: string | null; v6: boolean } {
  let t = text.trim();
  const v6 = t.endsWith(' (v6)');
  if (v6) t = t.slice(0, -5).trim();
  const on = / on (\S+)$/.exec(t);
  const iface = on === null ? null : (on[1] as string);
  if (on !== null) t = t.slice(0, on.index).trim();
  const words = t.split(' ');
  let address: string | null = null;
  const first = words[0] as string;
  if (first === 'Anywhere' || parseCidr(first)?.ok === true) {
    address = first === 'Anywhere' ? null : (parseCidr(first) as { cidr: string }).cidr;
    words.shift();
  }
  const rest = words.join(' ');
  if (rest === '') return { address, ports: null, protocol: 'all', interface: iface, v6 };
  const portSpec = /^([\d,:]+)(?:\/(tcp|udp))?$/.exec(rest);
  if (portSpec !== null) return { address, ports: ports(portSpec[1] as string, place), protocol: (portSpec[2] as 'tcp' | 'udp' | undefined) ?? 'all', interface: iface, v6 };
  const app = APPS.get(rest.toLowerCase());
  if (app === undefined) throw importError(`unknown ufw application profile "${rest}": give its ports instead (ufw app info "${rest}"), or import /etc/ufw/user.rules, which holds them`, place);
  return { address, ports: app.ports, protocol: app.protocol, interface: iface, v6 };
}

/** The output of `ufw status`, `ufw status verbose` or `ufw status numbered`. */
export function parseUfwStatus(text: string, file: string): ImportedPolicy {
  const notes: ImportNote[] = [];
  const rules: UfwRule[] = [];
  let input: 'accept' | 'drop' | 'reject' | null = null;
  let output: 'accept' | 'drop' | 'reject' | null = null;
  let table = false;
  let status = false;
  for (const { text: line, place } of lines(text, file)) {
    const t = line.trim();
    if (t === '') continue;
    const st = /^Status: (\S+)$/.exec(t);
    if (st !== null) {
      if (st[1] !== 'active') throw importError('ufw is inactive: `ufw status` lists no rules; import /etc/ufw/user.rules instead', place);
      status = true;
      continue;
    }
    const def = /^Default: (allow|deny|reject) \(incoming\), (allow|deny|reject) \(outgoing\)/.exec(t);
    if (def !== null) {
      input = policyOf(def[1] as string);
      output = policyOf(def[2] as string);
      continue;
    }
    if (/^To\s+Action\s+From$/.test(t)) {
      table = true;
      continue;
    }
    if (!table || /^-+\s+-+\s+-+$/.test(t)) continue;
    const row = /^(?:\[\s*\d+\]\s+)?(.+?)\s+(ALLOW|DENY|REJECT|LIMIT)(?: (IN|OUT|FWD))?\s+(.+?)$/.exec(t);
    if (row === null) throw importError(`not a ufw status row (TO ACTION FROM): "${t.slice(0, 60)}"`, place);
    let from = row[4] as string;
    let comment: string | null = null;
    const hash = from.indexOf(' # ');
    if (hash !== -1) {
      comment = from.slice(hash + 3).trim();
      from = from.slice(0, hash).trim();
    }
    const log = /\(log(-all)?\)/.test(from);
    from = from.replace(/\s*\((log|log-all|out|fwd)\)/g, '').trim();
    if (row[3] === 'FWD') {
      notes.push({ place, message: 'ufw route rule (forwarded traffic): not imported, see docs/adoption.md', covered: false });
      continue;
    }
    const direction = row[3] === 'OUT' ? 'out' : 'in';
    const to = side(row[1] as string, place);
    const fromSide = side(from, place);
    const local = direction === 'in' ? to : fromSide;
    const remote = direction === 'in' ? fromSide : to;
    const protocol = to.protocol !== 'all' ? to.protocol : fromSide.protocol;
    rules.push({
      action: (row[2] as string).toLowerCase() as Action,
      log,
      protocol,
      dport: to.ports,
      sport: fromSide.ports,
      peer: remote.address,
      local: local.address,
      direction,
      interface: to.interface ?? fromSide.interface,
      family: to.v6 || fromSide.v6 || (remote.address ?? local.address ?? '').includes(':') ? 6 : 4,
      comment,
      place,
    });
  }
  if (!status) throw importError('not the output of `ufw status` (no "Status:" line)', { file, line: 1 });
  if (input === null || output === null) notes.push({ place: { file, line: 1 }, message: `${DEFAULTS_NOTE} (ufw status verbose prints them)`, covered: false });
  /* ufw evaluates v4 and v6, in and out apart: each list keeps its own order. */
  const icmp = frameworkIcmp([4, 6], file, notes);
  return { tool: 'ufw', files: [file], input: input ?? 'drop', output: output ?? 'accept', entries: [...icmp, ...rules.flatMap((r) => entriesOf(r, notes))], notes };
}

/** A rules file or a status listing, told apart by their first lines. */
export function parseUfw(text: string, file: string): ImportedPolicy {
  return /^\s*Status: /m.test(text) && !text.includes('### tuple ###') ? parseUfwStatus(text, file) : parseUfwRulesFile(text, file);
}
