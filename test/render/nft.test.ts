import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NFT_COMMENT_MAX, renderNft } from '../../src/render/nft.ts';
import type { Ruleset } from '../../src/compile/ir.ts';
import { InputError } from '../../src/diagnostics.ts';
import { LONG_USER, acceptRule, emptyRuleset, fixture, withInputRule } from './fixture.ts';

const lines = (text: string): string[] => text.split('\n').map((l) => l.trim());

describe('renderNft', () => {
  const out = renderNft(fixture());

  it('defines table inet palisade only, without flush or delete', () => {
    assert.ok(out.startsWith('table inet palisade {\n'));
    assert.ok(out.endsWith('\n}\n'));
    assert.equal(out.match(/^table /gm)?.length, 1);
    assert.ok(!lines(out).some((l) => /^(flush|delete|add|table inet (?!palisade))/.test(l)));
  });

  it('writes sets first, each under its definition', () => {
    assert.ok(out.indexOf('\tset ') < out.indexOf('\tchain '));
    assert.ok(
      out.includes(
        [
          '\t# ipv4 of net 10.0.0.0/8, net 192.168.0.0/24, name backup.example.net',
          '\tset pal4_nets000000000 {',
          '\t\ttype ipv4_addr',
          '\t\tflags interval',
          '\t\telements = { 10.0.0.0/8, 192.168.0.0/24, 203.0.113.5 }',
          '\t}',
        ].join('\n'),
      ),
    );
    assert.ok(out.includes('\tset pal6_web0000000000 {\n\t\ttype ipv6_addr\n\t\telements = { 2001:db8::11, 2001:db8::12 }\n\t}'));
  });

  it('omits the elements of an empty set', () => {
    assert.ok(out.includes('\tset pal4_empty00000000 {\n\t\ttype ipv4_addr\n\t}'));
    assert.ok(out.includes('\tset pal6_empty00000000 {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t}'));
  });

  it('hooks base chains with policy accept and leaves user chains plain', () => {
    assert.ok(out.includes('\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n'));
    assert.ok(out.includes('\tchain output {\n\t\ttype filter hook output priority 0; policy accept;\n'));
    assert.ok(out.includes('\tchain forward {\n\t\ttype filter hook forward priority 0; policy accept;\n'));
    assert.ok(out.includes('\tchain user_www-data {\n\t\tip daddr @pal4_nets000000000 tcp dport 443 counter accept comment "Payments"\n'));
  });

  it('keeps the IR order of chains', () => {
    const chains = [...out.matchAll(/^\tchain (\S+) \{$/gm)].map((m) => m[1]);
    assert.deepEqual(chains, ['input', 'output', 'forward', `user_${LONG_USER}`, 'user_www-data']);
  });

  it('renders every match kind', () => {
    const expected = [
      'iifname "lo" counter accept comment "loopback"',
      'ct state established,related counter accept comment "established"',
      'icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert, mld-listener-query, mld-listener-report, mld-listener-done, mld2-listener-report } counter accept comment "icmpv6-link"',
      'ip saddr { 10.0.0.0/8, 192.0.2.1 } tcp dport 22 counter accept comment "failsafe in _1"',
      'ip6 saddr 2001:db8::/32 tcp dport 22 counter accept comment "failsafe in _1"',
      'iifname "eth0" ip saddr @pal4_web0000000000 tcp dport { 80, 443, 8000-8100 } counter accept comment "Web"',
      'iifname "eth0" ip6 saddr @pal6_web0000000000 tcp dport { 80, 443, 8000-8100 } counter accept comment "Web"',
      'ip saddr @pal4_nets000000000 tcp dport { 21, 22, 25, 110, 143, 1000-1010, 3000, 3001, 3002, 3003, 3004, 3005, 3006, 3007, 3008, 3009, 4000-4100, 5000, 5001, 5002 } counter accept comment "Many ports"',
      'ip saddr @pal4_nets000000000 udp dport 53 udp sport 1024-65535 counter accept comment "DNS"',
      'ip saddr @pal4_nets000000000 meta l4proto icmp counter accept comment "Ping"',
      'ip6 saddr @pal6_web0000000000 meta l4proto ipv6-icmp counter accept comment "Ping6"',
      'ip saddr @pal4_web0000000000 meta l4proto 112 counter accept comment "Keepalived"',
      'iifname "eth1" meta l4proto 89 counter accept',
      'oifname "eth0" ip daddr @pal4_web0000000000 tcp dport 5432 counter accept comment "Postgres"',
      'meta skuid 33 counter jump user_www-data comment "outbound of user www-data"',
      'udp dport 53 counter accept comment "failsafe out _1"',
    ];
    const all = lines(out);
    for (const line of expected) assert.ok(all.includes(line), `missing: ${line}`);
  });

  it('ends a base chain with a rate-limited log and an explicit drop', () => {
    assert.ok(out.includes('\t\tcounter limit rate 10/second burst 20 packets log prefix "DROP_PAL_INPUT "\n\t\tcounter drop\n\t}\n'));
  });

  it('emits raw nft text verbatim, without counter, and skips raw rules without nft text', () => {
    const all = lines(out);
    assert.ok(all.includes('tcp dport 8443 counter accept'));
    assert.ok(all.includes('udp dport 5353 accept'));
    assert.ok(all.includes('oifname "br0" accept'));
    assert.ok(!out.includes('-p udp') && !out.includes('-o br0'));
  });

  it('cannot be broken out of by a hostile comment', () => {
    assert.ok(lines(out).includes('ip6 saddr @pal6_empty00000000 tcp dport 9000 counter accept comment "Evil _ flush ruleset_-A INPUT -j ACCEPT_"'));
    assert.ok(out.includes('\t# ipv6 of query name:_x_ Evil _ flush ruleset_-A INPUT -j ACCEPT_\n'));
    for (const line of lines(out)) assert.ok(!line.startsWith('flush') && !line.startsWith('-A'), line);
  });

  it('renders deny, reject (TCP reset, ICMP, both for every protocol), rate limits with their meters, ICMP types and log', () => {
    const all = lines(out);
    for (const expected of [
      'ip saddr @pal4_nets000000000 counter drop comment "Deny scanners"',
      'ip saddr @pal4_nets000000000 tcp dport 23 counter reject with tcp reset comment "Reject telnet"',
      'ip6 saddr @pal6_web0000000000 udp dport 69 counter reject with icmpx type admin-prohibited comment "Reject tftp"',
      'meta l4proto tcp iifname "eth9" counter reject with tcp reset comment "Reject everything"',
      'iifname "eth9" counter reject with icmpx type admin-prohibited comment "Reject everything"',
      'ip saddr @pal4_nets000000000 tcp dport 22 add @palm4_0000000aa { ip saddr limit rate 10/minute burst 5 packets } counter accept comment "SSH limited"',
      'ip6 saddr @pal6_web0000000000 tcp dport 22 add @palm6_0000000aa { ip6 daddr limit rate 10/minute burst 5 packets } counter accept comment "SSH limited v6"',
      'udp dport 514 limit rate 10/minute burst 5 packets counter accept comment "Syslog limited"',
      'ip saddr @pal4_nets000000000 meta l4proto icmp icmp type { echo-request, timestamp-request } counter accept comment "Echo"',
      'tcp dport 25 counter limit rate 10/second burst 20 packets log prefix "LOG_PAL_Mail " comment "Mail"',
    ]) {
      assert.ok(all.includes(expected), expected);
    }
    assert.match(out, /\tset palm4_0000000aa \{\n\t\ttype ipv4_addr\n\t\tsize 65535\n\t\tflags dynamic\n\t\}/);
    assert.ok(!out.includes('palm4_0000000bb'), 'a limit per rule needs no meter');
  });

  it('is byte-deterministic', () => {
    assert.equal(renderNft(fixture()), out);
    assert.equal(renderNft(structuredClone(fixture())), out);
  });

  it('renders an empty ruleset as an empty table', () => {
    assert.equal(renderNft(emptyRuleset()), 'table inet palisade {\n}\n');
  });

  it('cuts comments to nft\'s 128 characters and log prefixes to 127 with the space', () => {
    const long = renderNft(withInputRule(acceptRule([], 'x'.repeat(300))));
    assert.ok(long.includes(`counter accept comment "${'x'.repeat(NFT_COMMENT_MAX)}"\n`));
    const log = renderNft(withInputRule({ matches: [], verdict: { kind: 'log', prefix: 'P'.repeat(200) }, origin: { kind: 'log' }, comment: null }));
    assert.ok(log.includes(`log prefix "${'P'.repeat(126)} "\n`));
  });

  it('omits a comment that sanitizes to nothing', () => {
    assert.ok(renderNft(withInputRule(acceptRule([], ''))).includes('\t\tcounter accept\n'));
  });

  it('refuses unsafe names, raw text with line breaks and inconsistent rules', () => {
    assert.throws(() => renderNft(withInputRule(acceptRule([{ kind: 'iif', name: 'eth0" accept' }]))), /unsafe interface name/);
    assert.throws(() => renderNft(withInputRule(acceptRule([{ kind: 'saddr', set: 'x y', family: 4 }]))), /unsafe set name/);
    assert.throws(
      () => renderNft(withInputRule({ ...acceptRule([]), raw: { nft: 'accept\nflush ruleset' } })),
      /control character/,
    );
    assert.throws(() => renderNft(withInputRule(acceptRule([{ kind: 'dport', ports: [{ from: 80, to: 80 }] }]))), /tcp or udp/);
    assert.throws(
      () => renderNft(withInputRule(acceptRule([{ kind: 'proto', protocol: 'icmp' }, { kind: 'dport', ports: [{ from: 80, to: 80 }] }]))),
      /tcp or udp/,
    );
    assert.throws(() => renderNft(withInputRule(acceptRule([{ kind: 'proto', protocol: 'tcp' }, { kind: 'dport', ports: [] }]))), /empty port list/);
    assert.throws(() => renderNft(withInputRule(acceptRule([{ kind: 'saddr-net', family: 4, cidrs: [] }]))), /empty list/);
    assert.throws(
      () => renderNft(withInputRule({ ...acceptRule([]), verdict: { kind: 'jump', chain: 'user_nobody' } })),
      /not a user chain/,
    );
  });
});

describe('nft rendering of the nat, mangle and raw tables', () => {
  const withTableRules = (rawIptables: Ruleset['rawIptables'], untranslatable?: Ruleset['untranslatable']): Ruleset => ({
    ...emptyRuleset(),
    rawIptables,
    ...(untranslatable === undefined ? {} : { untranslatable }),
  });

  it('puts each rule with an nft form in the chain of its built-in chain, with iptables\' hook and priority; iptables-only ones are left out', () => {
    const out = renderNft(
      withTableRules([
        { table: 'raw', chain: 'OUTPUT', nft: 'meta nfproto ipv4 udp dport 53 counter notrack', rule: '-p udp --dport 53 -j NOTRACK', name: 'a' },
        { table: 'nat', chain: 'PREROUTING', nft: 'meta nfproto ipv4 tcp dport 80 counter redirect to :8080', name: 'b' },
        { table: 'mangle', chain: 'OUTPUT', nft: 'meta mark set 0x1', name: 'c' },
        { table: 'nat', chain: 'POSTROUTING', rule: '-o eth0 -j MASQUERADE', name: 'd' },
      ]),
    );
    assert.ok(out.includes('\tchain nat_prerouting {\n\t\ttype nat hook prerouting priority -100; policy accept;\n\t\tmeta nfproto ipv4 tcp dport 80 counter redirect to :8080\n\t}\n'));
    assert.ok(out.includes('\tchain mangle_output {\n\t\ttype route hook output priority -150; policy accept;\n\t\tmeta mark set 0x1\n\t}\n'));
    assert.ok(out.includes('\tchain raw_output {\n\t\ttype filter hook output priority -300; policy accept;\n'));
    assert.ok(!out.includes('postrouting') && !out.includes('MASQUERADE'));
  });

  it('refuses a ruleset with untranslatable raw rules (an InputError naming them) and raw text that breaks out', () => {
    const diagnostic = { severity: 'error' as const, message: 'no nft form', file: 'p.yaml', line: 3, col: 3, rule: 'Bridge' };
    assert.throws(() => renderNft(withTableRules([], [diagnostic])), (e: unknown) => e instanceof InputError && e.diagnostics[0] === diagnostic);
    assert.throws(() => renderNft(withTableRules([{ table: 'nat', chain: 'PREROUTING', nft: 'accept\nflush ruleset', name: 'x' }])), /control character/);
    assert.throws(() => renderNft(withTableRules([{ table: 'raw', chain: 'INPUT', nft: 'notrack', name: 'x' }])), /not a built-in chain of table raw/);
  });
});
