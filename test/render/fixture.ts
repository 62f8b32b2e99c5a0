/** A hand-built ruleset exercising every match, verdict and raw form both renderers support. */
import type { IrRule, Match, Ruleset } from '../../src/compile/ir.ts';
import type { PortRange } from '../../src/policy/types.ts';

export const HOSTILE_COMMENT = 'Evil "; flush ruleset\n-A INPUT -j ACCEPT\n';
export const LONG_USER = 'averyveryverylongusername';

const ports = (...items: Array<number | [number, number]>): PortRange[] =>
  items.map((p) => (typeof p === 'number' ? { from: p, to: p } : { from: p[0], to: p[1] }));

const accept = (matches: Match[], rule: string, comment: string | null = rule): IrRule => ({
  matches,
  verdict: { kind: 'accept' },
  origin: { kind: 'rule', rule },
  comment,
});

const base = (what: 'loopback' | 'established' | 'icmpv6-link', match: Match): IrRule => ({
  matches: [match],
  verdict: { kind: 'accept' },
  origin: { kind: 'base', what },
  comment: what,
});

const log = (prefix: string): IrRule => ({ matches: [], verdict: { kind: 'log', prefix }, origin: { kind: 'log' }, comment: null });
const drop: IrRule = { matches: [], verdict: { kind: 'drop' }, origin: { kind: 'default', policy: 'drop' }, comment: null };

const v2 = (matches: Match[], verdict: IrRule['verdict'], rule: string): IrRule => ({ matches, verdict, origin: { kind: 'rule', rule }, comment: rule });
const limit = (per: 'source' | 'destination' | 'rule', family: 4 | 6, meter: string): Match => ({ kind: 'limit', meter, family, rate: 10, unit: 'minute', burst: 5, per });

/** Policy language v2: deny and reject (TCP, other, every protocol), rate limits, ICMP types and a log action. */
export const V2_RULES: IrRule[] = [
  v2([{ kind: 'saddr', set: 'pal4_nets000000000', family: 4 }], { kind: 'drop' }, 'Deny scanners'),
  v2([{ kind: 'saddr', set: 'pal4_nets000000000', family: 4 }, { kind: 'proto', protocol: 'tcp' }, { kind: 'dport', ports: ports(23) }], { kind: 'reject' }, 'Reject telnet'),
  v2([{ kind: 'saddr', set: 'pal6_web0000000000', family: 6 }, { kind: 'proto', protocol: 'udp' }, { kind: 'dport', ports: ports(69) }], { kind: 'reject' }, 'Reject tftp'),
  v2([{ kind: 'saddr', set: 'pal4_web0000000000', family: 4 }], { kind: 'reject' }, 'Reject everything v4'),
  v2([{ kind: 'iif', name: 'eth9' }], { kind: 'reject' }, 'Reject everything'),
  v2([{ kind: 'saddr', set: 'pal4_nets000000000', family: 4 }, { kind: 'proto', protocol: 'tcp' }, { kind: 'dport', ports: ports(22) }, limit('source', 4, 'palm4_0000000aa')], { kind: 'accept' }, 'SSH limited'),
  v2([{ kind: 'saddr', set: 'pal6_web0000000000', family: 6 }, { kind: 'proto', protocol: 'tcp' }, { kind: 'dport', ports: ports(22) }, limit('destination', 6, 'palm6_0000000aa')], { kind: 'accept' }, 'SSH limited v6'),
  v2([{ kind: 'proto', protocol: 'udp' }, { kind: 'dport', ports: ports(514) }, limit('rule', 4, 'palm4_0000000bb')], { kind: 'accept' }, 'Syslog limited'),
  v2([{ kind: 'saddr', set: 'pal4_nets000000000', family: 4 }, { kind: 'proto', protocol: 'icmp' }, { kind: 'icmp-type', protocol: 'icmp', types: ['echo-request', 'timestamp-request'] }], { kind: 'accept' }, 'Echo'),
  v2([{ kind: 'proto', protocol: 'icmpv6' }, { kind: 'icmp-type', protocol: 'icmpv6', types: ['echo-request'] }], { kind: 'accept' }, 'Echo6'),
  v2([{ kind: 'proto', protocol: 'tcp' }, { kind: 'dport', ports: ports(25) }], { kind: 'log', prefix: 'LOG_PAL_Mail' }, 'Mail'),
];

/** 20 entries, 2 of them ranges: 22 multiport slots, so two iptables rules. */
export const MANY_PORTS = ports(21, 22, 25, 110, 143, [1000, 1010], 3000, 3001, 3002, 3003, 3004, 3005, 3006, 3007, 3008, 3009, [4000, 4100], 5000, 5001, 5002);

export function fixture(): Ruleset {
  return {
    host: 'web-1',
    sets: [
      { name: 'pal4_any0000000000', family: 4, elements: ['0.0.0.0/0'], interval: true, definition: 'ipv4 of net 0.0.0.0/0; any environment' },
      { name: 'pal4_empty00000000', family: 4, elements: [], interval: false, definition: 'ipv4 of query roles:nothing; environment production' },
      { name: 'pal4_nets000000000', family: 4, elements: ['10.0.0.0/8', '192.168.0.0/24', '203.0.113.5'], interval: true, definition: 'ipv4 of net 10.0.0.0/8, net 192.168.0.0/24, name backup.example.net' },
      { name: 'pal4_web0000000000', family: 4, elements: ['10.0.1.11', '10.0.1.12'], interval: false, definition: 'ipv4 of query roles:web; environment production' },
      { name: 'pal6_any0000000000', family: 6, elements: ['::/0'], interval: true, definition: 'ipv6 of net ::/0; any environment' },
      { name: 'pal6_empty00000000', family: 6, elements: [], interval: true, definition: `ipv6 of query name:"x"; ${HOSTILE_COMMENT}` },
      { name: 'pal6_web0000000000', family: 6, elements: ['2001:db8::11', '2001:db8::12'], interval: false, definition: 'ipv6 of query roles:web; environment production' },
    ],
    chains: [
      {
        name: 'input',
        hook: 'input',
        rules: [
          base('loopback', { kind: 'iif', name: 'lo' }),
          base('established', { kind: 'ct-established' }),
          base('icmpv6-link', { kind: 'icmpv6-link' }),
          {
            matches: [{ kind: 'saddr-net', family: 4, cidrs: ['10.0.0.0/8', '192.0.2.1'] }, { kind: 'proto', protocol: 'tcp' }, { kind: 'dport', ports: ports(22) }],
            verdict: { kind: 'accept' },
            origin: { kind: 'failsafe', direction: 'in', index: 0 },
            comment: 'failsafe in #1',
          },
          {
            matches: [{ kind: 'saddr-net', family: 6, cidrs: ['2001:db8::/32'] }, { kind: 'proto', protocol: 'tcp' }, { kind: 'dport', ports: ports(22) }],
            verdict: { kind: 'accept' },
            origin: { kind: 'failsafe', direction: 'in', index: 0 },
            comment: 'failsafe in #1',
          },
          accept([{ kind: 'iif', name: 'eth0' }, { kind: 'saddr', set: 'pal4_web0000000000', family: 4 }, { kind: 'proto', protocol: 'tcp' }, { kind: 'dport', ports: ports(80, 443, [8000, 8100]) }], 'Web'),
          accept([{ kind: 'iif', name: 'eth0' }, { kind: 'saddr', set: 'pal6_web0000000000', family: 6 }, { kind: 'proto', protocol: 'tcp' }, { kind: 'dport', ports: ports(80, 443, [8000, 8100]) }], 'Web'),
          accept([{ kind: 'saddr', set: 'pal4_nets000000000', family: 4 }, { kind: 'proto', protocol: 'tcp' }, { kind: 'dport', ports: MANY_PORTS }], 'Many ports'),
          accept([{ kind: 'saddr', set: 'pal4_nets000000000', family: 4 }, { kind: 'proto', protocol: 'udp' }, { kind: 'dport', ports: ports(53) }, { kind: 'sport', ports: ports([1024, 65535]) }], 'DNS'),
          accept([{ kind: 'saddr', set: 'pal4_nets000000000', family: 4 }, { kind: 'proto', protocol: 'icmp' }], 'Ping'),
          accept([{ kind: 'saddr', set: 'pal6_web0000000000', family: 6 }, { kind: 'proto', protocol: 'icmpv6' }], 'Ping6'),
          accept([{ kind: 'saddr', set: 'pal4_web0000000000', family: 4 }, { kind: 'proto', protocol: 'vrrp' }], 'Keepalived'),
          accept([{ kind: 'iif', name: 'eth1' }, { kind: 'proto', protocol: 'ospf' }], 'OSPF', null),
          accept([{ kind: 'saddr', set: 'pal4_empty00000000', family: 4 }, { kind: 'proto', protocol: 'tcp' }, { kind: 'dport', ports: ports(5432) }], 'Nobody'),
          accept([{ kind: 'saddr', set: 'pal6_empty00000000', family: 6 }, { kind: 'proto', protocol: 'tcp' }, { kind: 'dport', ports: ports(9000) }], HOSTILE_COMMENT),
          accept([{ kind: 'saddr', set: 'pal4_any0000000000', family: 4 }, { kind: 'proto', protocol: 'tcp' }, { kind: 'dport', ports: ports(8080) }], 'Anyone v4'),
          accept([{ kind: 'saddr', set: 'pal6_any0000000000', family: 6 }, { kind: 'proto', protocol: 'tcp' }, { kind: 'dport', ports: ports(8080) }], 'Anyone v6'),
          { matches: [], verdict: { kind: 'accept' }, origin: { kind: 'raw', rule: 'Both' }, comment: 'Both', raw: { nft: 'tcp dport 8443 counter accept', iptables: '-p tcp --dport 8443 -j ACCEPT' } },
          { matches: [], verdict: { kind: 'accept' }, origin: { kind: 'raw', rule: 'Nft only' }, comment: 'Nft only', raw: { nft: 'udp dport 5353 accept' } },
          { matches: [], verdict: { kind: 'accept' }, origin: { kind: 'raw', rule: 'Iptables only' }, comment: 'Iptables only', raw: { iptables: '-p udp --dport 5353 -j ACCEPT' } },
          ...V2_RULES,
          log('DROP_PAL_INPUT'),
          drop,
        ],
      },
      {
        name: 'output',
        hook: 'output',
        rules: [
          base('loopback', { kind: 'oif', name: 'lo' }),
          base('established', { kind: 'ct-established' }),
          base('icmpv6-link', { kind: 'icmpv6-link' }),
          {
            matches: [{ kind: 'proto', protocol: 'udp' }, { kind: 'dport', ports: ports(53) }],
            verdict: { kind: 'accept' },
            origin: { kind: 'failsafe', direction: 'out', index: 0 },
            comment: 'failsafe out #1',
          },
          accept([{ kind: 'oif', name: 'eth0' }, { kind: 'daddr', set: 'pal4_web0000000000', family: 4 }, { kind: 'proto', protocol: 'tcp' }, { kind: 'dport', ports: ports(5432) }], 'Postgres'),
          { matches: [{ kind: 'skuid', uid: 33 }], verdict: { kind: 'jump', chain: 'user_www-data' }, origin: { kind: 'base', what: 'user-dispatch' }, comment: 'outbound of user www-data' },
          { matches: [{ kind: 'skuid', uid: 1001 }], verdict: { kind: 'jump', chain: `user_${LONG_USER}` }, origin: { kind: 'base', what: 'user-dispatch' }, comment: `outbound of user ${LONG_USER}` },
          log('DROP_PAL_OUTPUT'),
        ],
      },
      {
        name: 'forward',
        hook: 'forward',
        rules: [
          { matches: [], verdict: { kind: 'accept' }, origin: { kind: 'raw', rule: 'Bridge' }, comment: 'Bridge', raw: { nft: 'oifname "br0" accept', iptables: '-o br0 -j ACCEPT' } },
        ],
      },
      {
        name: `user_${LONG_USER}`,
        hook: null,
        user: { name: LONG_USER, uid: 1001 },
        rules: [
          accept([{ kind: 'daddr', set: 'pal4_web0000000000', family: 4 }, { kind: 'proto', protocol: 'udp' }, { kind: 'dport', ports: ports(123) }], 'NTP'),
          log(`DROP_PAL_OUT_${LONG_USER}`),
          { matches: [], verdict: { kind: 'accept' }, origin: { kind: 'default', policy: 'accept' }, comment: null },
        ],
      },
      {
        name: 'user_www-data',
        hook: null,
        user: { name: 'www-data', uid: 33 },
        rules: [
          accept([{ kind: 'daddr', set: 'pal4_nets000000000', family: 4 }, { kind: 'proto', protocol: 'tcp' }, { kind: 'dport', ports: ports(443) }], 'Payments'),
          accept([{ kind: 'daddr', set: 'pal6_web0000000000', family: 6 }, { kind: 'proto', protocol: 'tcp' }, { kind: 'dport', ports: ports(443) }], 'Payments'),
          log('DROP_PAL_OUT_www-data'),
          drop,
        ],
      },
    ],
    rawIptables: [
      { table: 'nat', chain: 'POSTROUTING', rule: '-o eth0 -j MASQUERADE', name: 'Masquerade' },
      { table: 'mangle', chain: 'FORWARD', rule: '-p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu', name: 'Clamp MSS' },
      { table: 'nat', chain: 'PREROUTING', rule: '-i eth0 -p tcp --dport 80 -j REDIRECT --to-ports 8080', name: 'Redirect' },
    ],
    warnings: [],
    policyRevision: 'p1',
    inventoryRevision: 'i1',
  };
}

/** A ruleset with no rules and no sets. */
export function emptyRuleset(): Ruleset {
  return { host: 'bare', sets: [], chains: [], rawIptables: [], warnings: [], policyRevision: 'p0', inventoryRevision: 'i0' };
}

/** A ruleset whose input chain holds only `rule`. */
export function withInputRule(rule: IrRule): Ruleset {
  const rs = emptyRuleset();
  rs.chains.push({ name: 'input', hook: 'input', rules: [rule] });
  return rs;
}

/** An accept rule from a rule named "r". */
export const acceptRule = (matches: IrRule['matches'], comment: string | null = null): IrRule => ({
  matches,
  verdict: { kind: 'accept' },
  origin: { kind: 'rule', rule: 'r' },
  comment,
});
