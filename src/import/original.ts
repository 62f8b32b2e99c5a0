/**
 * What the other tool itself loads into the kernel for the files `import` read, for `import --verify` to load
 * into a network namespace beside palisade's policy:
 * - iptables-save: each file as it is, through `iptables-restore` or `ip6tables-restore` (by its addresses).
 * - ufw: its rules files as ufw loads them: its framework first (the chains and rules of ufw 0.36's
 *   before.rules, after.rules and ufw-init with Debian's defaults: deny incoming, allow outgoing; the IPv4
 *   one as `ufw enable` loaded it, captured in test/import/fixtures/ufw-enabled.iptables-save), then
 *   `user.rules` / `user6.rules` through `iptables-restore --noflush`, as ufw-init does. `ufw status` output
 *   cannot be loaded: it says what ufw has, not the rules.
 * - firewalld: the zone's effect in firewalld's nftables layout (`table inet firewalld`: established and
 *   loopback accepted, invalid dropped, the zone's rules in its order, then its target, new connections of
 *   services and ports only), generated from the zone as read. Running firewalld itself needs its daemon
 *   on the system D-Bus, which a test namespace does not have.
 */
import type { FirewalldZone, Match, Pending } from './firewalld.ts';
import type { ImportedPolicy, ImportTool } from './model.ts';
import { ICMP_TYPES, ICMPV6_TYPES } from '../policy/icmp-types.ts';
import { formatPorts } from '../policy/ports.ts';

export interface LoadStep {
  tool: 'iptables-restore' | 'ip6tables-restore' | 'nft';
  args: string[];
  text: string;
  /** For messages: the file it comes from. */
  what: string;
}

/** The steps, or why the files cannot be loaded as the tool would. */
export type OriginalLoad = { steps: LoadStep[] } | { unavailable: string };

export interface ReadFile {
  name: string;
  text: string;
  /** The file as imported on its own. */
  part: ImportedPolicy;
}

const familyOf = (part: ImportedPolicy): 4 | 6 => {
  for (const e of part.entries) {
    const family = e.kind === 'raw' ? e.known.family : e.family;
    if (family !== 'both') return family;
  }
  return 4;
};

function iptablesSave(files: readonly ReadFile[]): OriginalLoad {
  return { steps: files.map((f) => ({ tool: familyOf(f.part) === 6 ? 'ip6tables-restore' : 'iptables-restore', args: [], text: f.text, what: f.name })) };
}

/** The chains ufw creates; `user.rules` declares (and so flushes) the user and logging ones. */
const UFW_CHAINS = [
  'after-forward', 'after-input', 'after-logging-forward', 'after-logging-input', 'after-logging-output', 'after-output',
  'before-forward', 'before-input', 'before-logging-forward', 'before-logging-input', 'before-logging-output', 'before-output',
  'logging-allow', 'logging-deny', 'not-local', 'reject-forward', 'reject-input', 'reject-output',
  'skip-to-policy-forward', 'skip-to-policy-input', 'skip-to-policy-output', 'track-forward', 'track-input', 'track-output',
  'user-forward', 'user-input', 'user-limit', 'user-limit-accept', 'user-logging-forward', 'user-logging-input', 'user-logging-output', 'user-output',
];

const UFW_HOOKS = (p: string): string[] =>
  ['INPUT', 'FORWARD', 'OUTPUT'].flatMap((builtin) => {
    const lower = builtin.toLowerCase();
    return ['before-logging', 'before', 'after', 'after-logging', 'reject', 'track'].map((c) => `-A ${builtin} -j ${p}-${c}-${lower}`);
  });

/** ufw's framework for IPv4 (before.rules, after.rules, ufw-init's policy chains), without what user.rules brings. */
const UFW_V4 = [
  ...UFW_HOOKS('ufw'),
  '-A ufw-after-input -p udp -m udp --dport 137 -j ufw-skip-to-policy-input',
  '-A ufw-after-input -p udp -m udp --dport 138 -j ufw-skip-to-policy-input',
  '-A ufw-after-input -p tcp -m tcp --dport 139 -j ufw-skip-to-policy-input',
  '-A ufw-after-input -p tcp -m tcp --dport 445 -j ufw-skip-to-policy-input',
  '-A ufw-after-input -p udp -m udp --dport 67 -j ufw-skip-to-policy-input',
  '-A ufw-after-input -p udp -m udp --dport 68 -j ufw-skip-to-policy-input',
  '-A ufw-after-input -m addrtype --dst-type BROADCAST -j ufw-skip-to-policy-input',
  '-A ufw-before-forward -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  ...[3, 11, 12, 8].map((t) => `-A ufw-before-forward -p icmp -m icmp --icmp-type ${t} -j ACCEPT`),
  '-A ufw-before-forward -j ufw-user-forward',
  '-A ufw-before-input -i lo -j ACCEPT',
  '-A ufw-before-input -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  '-A ufw-before-input -m conntrack --ctstate INVALID -j ufw-logging-deny',
  '-A ufw-before-input -m conntrack --ctstate INVALID -j DROP',
  ...[3, 11, 12, 8].map((t) => `-A ufw-before-input -p icmp -m icmp --icmp-type ${t} -j ACCEPT`),
  '-A ufw-before-input -p udp -m udp --sport 67 --dport 68 -j ACCEPT',
  '-A ufw-before-input -j ufw-not-local',
  '-A ufw-before-input -d 224.0.0.251/32 -p udp -m udp --dport 5353 -j ACCEPT',
  '-A ufw-before-input -d 239.255.255.250/32 -p udp -m udp --dport 1900 -j ACCEPT',
  '-A ufw-before-input -j ufw-user-input',
  '-A ufw-before-output -o lo -j ACCEPT',
  '-A ufw-before-output -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  '-A ufw-before-output -j ufw-user-output',
  '-A ufw-not-local -m addrtype --dst-type LOCAL -j RETURN',
  '-A ufw-not-local -m addrtype --dst-type MULTICAST -j RETURN',
  '-A ufw-not-local -m addrtype --dst-type BROADCAST -j RETURN',
  '-A ufw-not-local -m limit --limit 3/min --limit-burst 10 -j ufw-logging-deny',
  '-A ufw-not-local -j DROP',
  '-A ufw-skip-to-policy-forward -j DROP',
  '-A ufw-skip-to-policy-input -j DROP',
  '-A ufw-skip-to-policy-output -j ACCEPT',
  '-A ufw-track-output -p tcp -m conntrack --ctstate NEW -j ACCEPT',
  '-A ufw-track-output -p udp -m conntrack --ctstate NEW -j ACCEPT',
];

/** ufw's framework for IPv6 (before6.rules, after6.rules, ufw-init's policy chains). */
const UFW_V6 = [
  ...UFW_HOOKS('ufw6'),
  '-A ufw6-after-input -p udp -m udp --dport 137 -j ufw6-skip-to-policy-input',
  '-A ufw6-after-input -p udp -m udp --dport 138 -j ufw6-skip-to-policy-input',
  '-A ufw6-after-input -p tcp -m tcp --dport 139 -j ufw6-skip-to-policy-input',
  '-A ufw6-after-input -p tcp -m tcp --dport 445 -j ufw6-skip-to-policy-input',
  '-A ufw6-after-input -p udp -m udp --dport 546 -j ufw6-skip-to-policy-input',
  '-A ufw6-after-input -p udp -m udp --dport 547 -j ufw6-skip-to-policy-input',
  '-A ufw6-before-forward -m rt --rt-type 0 -j DROP',
  '-A ufw6-before-forward -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  ...[1, 2, 3, 4, 128].map((t) => `-A ufw6-before-forward -p ipv6-icmp -m icmp6 --icmpv6-type ${t} -j ACCEPT`),
  '-A ufw6-before-forward -j ufw6-user-forward',
  '-A ufw6-before-input -i lo -j ACCEPT',
  '-A ufw6-before-input -m rt --rt-type 0 -j DROP',
  ...[135, 136, 133, 134].map((t) => `-A ufw6-before-input -p ipv6-icmp -m icmp6 --icmpv6-type ${t} -m hl --hl-eq 255 -j ACCEPT`),
  '-A ufw6-before-input -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  ...[130, 131, 132, 143].map((t) => `-A ufw6-before-input -s fe80::/10 -p ipv6-icmp -m icmp6 --icmpv6-type ${t} -j ACCEPT`),
  '-A ufw6-before-input -m conntrack --ctstate INVALID -j ufw6-logging-deny',
  '-A ufw6-before-input -m conntrack --ctstate INVALID -j DROP',
  ...[1, 2, 3, 4, 128].map((t) => `-A ufw6-before-input -p ipv6-icmp -m icmp6 --icmpv6-type ${t} -j ACCEPT`),
  '-A ufw6-before-input -s fe80::/10 -d fe80::/10 -p udp -m udp --sport 547 --dport 546 -j ACCEPT',
  '-A ufw6-before-input -d ff02::fb/128 -p udp -m udp --dport 5353 -j ACCEPT',
  '-A ufw6-before-input -d ff02::f/128 -p udp -m udp --dport 1900 -j ACCEPT',
  '-A ufw6-before-input -j ufw6-user-input',
  '-A ufw6-before-output -o lo -j ACCEPT',
  '-A ufw6-before-output -m rt --rt-type 0 -j DROP',
  ...[135, 136, 133, 134].map((t) => `-A ufw6-before-output -p ipv6-icmp -m icmp6 --icmpv6-type ${t} -m hl --hl-eq 255 -j ACCEPT`),
  '-A ufw6-before-output -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  ...[1, 2, 3, 4, 128, 129].map((t) => `-A ufw6-before-output -p ipv6-icmp -m icmp6 --icmpv6-type ${t} -j ACCEPT`),
  '-A ufw6-before-output -j ufw6-user-output',
  '-A ufw6-skip-to-policy-forward -j DROP',
  '-A ufw6-skip-to-policy-input -j DROP',
  '-A ufw6-skip-to-policy-output -j ACCEPT',
  '-A ufw6-track-output -p tcp -m conntrack --ctstate NEW -j ACCEPT',
  '-A ufw6-track-output -p udp -m conntrack --ctstate NEW -j ACCEPT',
];

function ufwFramework(prefix: 'ufw' | 'ufw6', rules: readonly string[]): string {
  return ['*filter', ':INPUT DROP [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]', ...UFW_CHAINS.map((c) => `:${prefix}-${c} - [0:0]`), ...rules, 'COMMIT', ''].join('\n');
}

function ufw(files: readonly ReadFile[]): OriginalLoad {
  const status = files.find((f) => !/^\*filter\s*$/m.test(f.text));
  if (status !== undefined) return { unavailable: `${status.name} is ufw status output, which says what ufw has, not the rules it loads: give /etc/ufw/user.rules (and user6.rules) to --verify in the kernel` };
  const steps: LoadStep[] = [];
  for (const v6 of [false, true]) {
    const own = files.filter((f) => /^-A ufw6-/m.test(f.text) === v6);
    if (own.length === 0) continue;
    const tool = v6 ? 'ip6tables-restore' : 'iptables-restore';
    steps.push({ tool, args: [], text: ufwFramework(v6 ? 'ufw6' : 'ufw', v6 ? UFW_V6 : UFW_V4), what: `ufw's framework (${v6 ? 'before6.rules, after6.rules' : 'before.rules, after.rules'})` });
    for (const f of own) steps.push({ tool, args: ['--noflush'], text: f.text, what: f.name });
  }
  return { steps };
}

const nftString = (text: string): string => `"${text.replace(/[^\x20-\x7e]|["\\]/g, '?')}"`;

function matchText(m: Match, family: 4 | 6): string[] {
  if (m.protocol === 'all') return [];
  if (m.protocol === 'icmp') {
    const proto = family === 4 ? 'icmp' : 'icmpv6';
    return m.icmpType === null ? [`meta l4proto ${family === 4 ? 'icmp' : 'ipv6-icmp'}`] : [`${proto} type ${m.icmpType}`];
  }
  const ports = (field: 'dport' | 'sport', ranges: Match['dport']): string[] => (ranges === null ? [] : [`${m.protocol} ${field} { ${formatPorts(ranges).replace(/,/g, ', ')} }`]);
  const words = [...ports('dport', m.dport), ...ports('sport', m.sport)];
  return words.length === 0 ? [`meta l4proto ${m.protocol}`] : words;
}

const UNITS = { second: 'second', minute: 'minute', hour: 'hour', day: 'day' } as const;

function verdictText(p: Pending, ports: boolean): string[] {
  const limit = p.limit === null ? [] : [`limit rate ${p.limit.rate}/${UNITS[p.limit.unit]}`];
  const fresh = ports && p.action !== 'log' ? ['ct state { new, untracked }'] : [];
  switch (p.action) {
    case 'log':
      return [...limit, `log prefix ${nftString(p.name ?? 'firewalld ')}`];
    case 'accept':
      return [...fresh, ...limit, 'accept'];
    case 'drop':
      return [...limit, 'drop'];
    case 'reject':
      return [...limit, 'reject with icmpx admin-prohibited'];
  }
}

/** One entry of the zone as nft rules, per family and match. */
function zoneRules(p: Pending, iface: string | null): string[] {
  const out: string[] = [];
  for (const family of p.families) {
    const peers = (p.peers ?? []).filter((c) => (c.includes(':') ? 6 : 4) === family);
    if (p.peers !== null && p.peers.length > 0 && peers.length === 0) continue;
    const base = [
      ...(iface === null ? [] : [`iifname ${nftString(iface)}`]),
      peers.length > 0 ? `${family === 4 ? 'ip' : 'ip6'} saddr { ${peers.join(', ')} }` : p.families.length === 1 ? `meta nfproto ${family === 4 ? 'ipv4' : 'ipv6'}` : '',
    ].filter((w) => w !== '');
    for (const m of p.matches) {
      if (p.families.length === 2 && peers.length === 0 && m.protocol !== 'icmp' && family === 6) continue;
      if (m.icmpType !== null && !(family === 6 ? ICMPV6_TYPES : ICMP_TYPES).has(m.icmpType)) continue;
      out.push([...base, ...matchText(m, family), ...verdictText(p, m.protocol === 'tcp' || m.protocol === 'udp')].join(' '));
    }
  }
  return out;
}

/** The zone in firewalld's nftables layout, as `nft -f` input. */
export function firewalldEffect(zone: FirewalldZone): string {
  const rules = zone.pending.filter((p) => p.zoneIcmp !== true).flatMap((p) => zoneRules(p, zone.iface));
  const ending = zone.target === 'accept' ? 'accept' : zone.target === 'drop' ? 'drop' : 'reject with icmpx admin-prohibited';
  return [
    'table inet firewalld {',
    '\tchain filter_INPUT {',
    '\t\ttype filter hook input priority filter + 10; policy accept;',
    '\t\tct state { established, related } accept',
    '\t\tct status dnat accept',
    '\t\tiifname "lo" accept',
    '\t\tct state invalid drop',
    '\t\tjump filter_IN_zone',
    '\t\treject with icmpx admin-prohibited',
    '\t}',
    '\tchain filter_IN_zone {',
    ...rules.map((r) => `\t\t${r}`),
    ...(zone.defaultTarget ? ['\t\tmeta l4proto { icmp, ipv6-icmp } accept'] : [`\t\t${ending}`]),
    '\t}',
    '}',
    '',
  ].join('\n');
}

export function originalLoad(tool: ImportTool, files: readonly ReadFile[], zones: readonly FirewalldZone[]): OriginalLoad {
  switch (tool) {
    case 'iptables-save':
      return iptablesSave(files);
    case 'ufw':
      return ufw(files);
    case 'firewalld':
      if (zones.length !== 1) return { unavailable: `firewalld: --verify in the kernel takes one zone file (got ${zones.length})` };
      return { steps: [{ tool: 'nft', args: ['-f', '-'], text: firewalldEffect(zones[0] as FirewalldZone), what: `${zones[0]?.file} (firewalld's nftables layout)` }] };
  }
}
