import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IPTABLES_CHAIN_MAX, IPTABLES_COMMENT_MAX, MULTIPORT_MAX, iptablesChainName, renderIptables } from '../../src/render/iptables.ts';
import { LONG_USER, acceptRule, emptyRuleset, fixture, withInputRule } from './fixture.ts';

const lines = (text: string): string[] => text.split('\n');

/** multiport slots a rule line uses. */
function slots(line: string): number {
  const list = /--dports (\S+)/.exec(line)?.[1] ?? '';
  return list.split(',').reduce((n, p) => n + (p.includes(':') ? 2 : 1), 0);
}

describe('renderIptables', () => {
  const out = renderIptables(fixture()).toText();
  const longChain = iptablesChainName({ name: `user_${LONG_USER}`, hook: null, user: { name: LONG_USER, uid: 1001 }, rules: [] });

  it('declares only palisade chains, then rules, then the jumps from the built-in chains', () => {
    for (const file of [out.v4, out.v6]) {
      const all = lines(file);
      assert.deepEqual(all.slice(0, 6), [
        '*filter',
        ':PALISADE-INPUT - [0:0]',
        ':PALISADE-OUTPUT - [0:0]',
        ':PALISADE-FORWARD - [0:0]',
        `:${longChain} - [0:0]`,
        ':PALISADE-U-www-data - [0:0]',
      ]);
      const commit = all.indexOf('COMMIT');
      assert.deepEqual(all.slice(commit - 3, commit + 1), [
        '-I INPUT 1 -j PALISADE-INPUT',
        '-I OUTPUT 1 -j PALISADE-OUTPUT',
        '-I FORWARD 1 -j PALISADE-FORWARD',
        'COMMIT',
      ]);
      for (const line of all.slice(6, commit - 3)) assert.match(line, /^-A PALISADE-/);
    }
  });

  it('renders every match kind', () => {
    const v4 = lines(out.v4);
    const expected = [
      '-A PALISADE-INPUT -i lo -m comment --comment "loopback" -j ACCEPT',
      '-A PALISADE-INPUT -m conntrack --ctstate ESTABLISHED,RELATED -m comment --comment "established" -j ACCEPT',
      '-A PALISADE-INPUT -s 10.0.0.0/8,192.0.2.1 -p tcp --dport 22 -m comment --comment "failsafe in _1" -j ACCEPT',
      '-A PALISADE-INPUT -i eth0 -m set --match-set pal4_web0000000000 src -p tcp -m multiport --dports 80,443,8000:8100 -m comment --comment "Web" -j ACCEPT',
      '-A PALISADE-INPUT -m set --match-set pal4_nets000000000 src -p udp --dport 53 --sport 1024:65535 -m comment --comment "DNS" -j ACCEPT',
      '-A PALISADE-INPUT -m set --match-set pal4_nets000000000 src -p icmp -m comment --comment "Ping" -j ACCEPT',
      '-A PALISADE-INPUT -m set --match-set pal4_web0000000000 src -p 112 -m comment --comment "Keepalived" -j ACCEPT',
      '-A PALISADE-INPUT -i eth1 -p 89 -j ACCEPT',
      '-A PALISADE-INPUT -m limit --limit 10/second --limit-burst 20 -j LOG --log-prefix "DROP_PAL_INPUT "',
      '-A PALISADE-INPUT -j DROP',
      '-A PALISADE-OUTPUT -o lo -m comment --comment "loopback" -j ACCEPT',
      '-A PALISADE-OUTPUT -o eth0 -m set --match-set pal4_web0000000000 dst -p tcp --dport 5432 -m comment --comment "Postgres" -j ACCEPT',
      '-A PALISADE-OUTPUT -m owner --uid-owner 33 -m comment --comment "outbound of user www-data" -j PALISADE-U-www-data',
      `-A PALISADE-OUTPUT -m owner --uid-owner 1001 -m comment --comment "outbound of user ${LONG_USER}" -j ${longChain}`,
      '-A PALISADE-U-www-data -m set --match-set pal4_nets000000000 dst -p tcp --dport 443 -m comment --comment "Payments" -j ACCEPT',
      '-A PALISADE-U-www-data -j DROP',
    ];
    for (const line of expected) assert.ok(v4.includes(line), `missing from v4: ${line}`);
    const v6 = lines(out.v6);
    for (const line of [
      '-A PALISADE-INPUT -s 2001:db8::/32 -p tcp --dport 22 -m comment --comment "failsafe in _1" -j ACCEPT',
      '-A PALISADE-INPUT -m set --match-set pal6_web0000000000 src -p ipv6-icmp -m comment --comment "Ping6" -j ACCEPT',
      '-A PALISADE-INPUT -i eth1 -p 89 -j ACCEPT',
      '-A PALISADE-U-www-data -m set --match-set pal6_web0000000000 dst -p tcp --dport 443 -m comment --comment "Payments" -j ACCEPT',
    ]) {
      assert.ok(v6.includes(line), `missing from v6: ${line}`);
    }
  });

  it('routes rules by the family their matches imply', () => {
    assert.ok(!out.v6.includes('pal4_') && !out.v4.includes('pal6_'));
    assert.ok(!out.v6.includes('-p icmp ') && !out.v4.includes('ipv6-icmp'));
    assert.ok(!out.v6.includes('10.0.0.0/8') && !out.v4.includes('2001:db8::/32'));
    for (const file of [out.v4, out.v6]) {
      assert.ok(file.includes('-A PALISADE-OUTPUT -p udp --dport 53 -m comment --comment "failsafe out _1" -j ACCEPT\n'));
      assert.ok(file.includes('-A PALISADE-INPUT -j DROP\n'));
    }
  });

  it('renders deny, reject per family, hashlimit per address, limit per rule and ICMP types by number', () => {
    const v4 = lines(out.v4);
    const v6 = lines(out.v6);
    for (const expected of [
      '-A PALISADE-INPUT -m set --match-set pal4_nets000000000 src -p tcp --dport 23 -m comment --comment "Reject telnet" -j REJECT --reject-with tcp-reset',
      '-A PALISADE-INPUT -p tcp -i eth9 -m comment --comment "Reject everything" -j REJECT --reject-with tcp-reset',
      '-A PALISADE-INPUT -i eth9 -m comment --comment "Reject everything" -j REJECT --reject-with icmp-admin-prohibited',
      '-A PALISADE-INPUT -m set --match-set pal4_nets000000000 src -p tcp --dport 22 -m hashlimit --hashlimit-upto 10/minute --hashlimit-burst 5 --hashlimit-mode srcip --hashlimit-name palm4_0000000aa -m comment --comment "SSH limited" -j ACCEPT',
      '-A PALISADE-INPUT -p udp --dport 514 -m limit --limit 10/minute --limit-burst 5 -m comment --comment "Syslog limited" -j ACCEPT',
      '-A PALISADE-INPUT -m set --match-set pal4_nets000000000 src -p icmp --icmp-type 13 -m comment --comment "Echo" -j ACCEPT',
    ]) {
      assert.ok(v4.includes(expected), expected);
    }
    assert.ok(v6.includes('-A PALISADE-INPUT -i eth9 -m comment --comment "Reject everything" -j REJECT --reject-with icmp6-adm-prohibited'));
    assert.ok(v6.includes('-A PALISADE-INPUT -m set --match-set pal6_web0000000000 src -p udp --dport 69 -m comment --comment "Reject tftp" -j REJECT --reject-with icmp6-adm-prohibited'));
  });

  it('writes neighbour and multicast listener discovery as one IPv6 rule per ICMPv6 type', () => {
    const nd = lines(out.v6).filter((l) => l.startsWith('-A PALISADE-INPUT -p ipv6-icmp --icmpv6-type') && l.includes('icmpv6-link'));
    assert.deepEqual(nd, [
      '-A PALISADE-INPUT -p ipv6-icmp --icmpv6-type neighbour-solicitation -m comment --comment "icmpv6-link" -j ACCEPT',
      '-A PALISADE-INPUT -p ipv6-icmp --icmpv6-type neighbour-advertisement -m comment --comment "icmpv6-link" -j ACCEPT',
      '-A PALISADE-INPUT -p ipv6-icmp --icmpv6-type router-solicitation -m comment --comment "icmpv6-link" -j ACCEPT',
      '-A PALISADE-INPUT -p ipv6-icmp --icmpv6-type router-advertisement -m comment --comment "icmpv6-link" -j ACCEPT',
      ...['130', '131', '132', '143'].map((type) => `-A PALISADE-INPUT -p ipv6-icmp --icmpv6-type ${type} -m comment --comment "icmpv6-link" -j ACCEPT`),
    ]);
    assert.ok(!out.v4.includes('icmpv6-type'));
  });

  it('splits port lists over 15 multiport slots, a range counting as two, keeping their order', () => {
    const many = lines(out.v4).filter((l) => l.includes('"Many ports"'));
    assert.deepEqual(many, [
      '-A PALISADE-INPUT -m set --match-set pal4_nets000000000 src -p tcp -m multiport --dports 21,22,25,110,143,1000:1010,3000,3001,3002,3003,3004,3005,3006,3007 -m comment --comment "Many ports" -j ACCEPT',
      '-A PALISADE-INPUT -m set --match-set pal4_nets000000000 src -p tcp -m multiport --dports 3008,3009,4000:4100,5000,5001,5002 -m comment --comment "Many ports" -j ACCEPT',
    ]);
    for (const line of many) assert.ok(slots(line) <= MULTIPORT_MAX);
  });

  it('renders a lone port of a split list without multiport, and splits dport and sport independently', () => {
    const ports = Array.from({ length: 16 }, (_, i) => ({ from: 100 + i, to: 100 + i }));
    const rule = acceptRule([{ kind: 'proto', protocol: 'udp' }, { kind: 'dport', ports }, { kind: 'sport', ports: [{ from: 1, to: 1 }, { from: 5, to: 9 }] }]);
    const v4 = lines(renderIptables(withInputRule(rule)).toText().v4).filter((l) => l.startsWith('-A'));
    assert.deepEqual(v4, [
      '-A PALISADE-INPUT -p udp -m multiport --dports 100,101,102,103,104,105,106,107,108,109,110,111,112,113,114 -m multiport --sports 1,5:9 -j ACCEPT',
      '-A PALISADE-INPUT -p udp --dport 115 -m multiport --sports 1,5:9 -j ACCEPT',
    ]);
  });

  it('puts raw filter rules in v4 only and skips raw rules without iptables text', () => {
    assert.ok(out.v4.includes('-A PALISADE-INPUT -p tcp --dport 8443 -j ACCEPT\n'));
    assert.ok(out.v4.includes('-A PALISADE-INPUT -p udp --dport 5353 -j ACCEPT\n'));
    assert.ok(out.v4.includes('-A PALISADE-FORWARD -o br0 -j ACCEPT\n'));
    assert.ok(!out.v6.includes('8443') && !out.v6.includes('5353') && !out.v6.includes('br0'));
    assert.ok(!out.v4.includes('counter'));
  });

  it('writes the raw nat and mangle rules to palisade chains of their tables, v4 only', () => {
    const v4 = out.v4.slice(out.v4.indexOf('COMMIT\n') + 'COMMIT\n'.length);
    assert.equal(
      v4,
      [
        '*nat',
        ':PALISADE-POSTROUTING - [0:0]',
        ':PALISADE-PREROUTING - [0:0]',
        '-A PALISADE-POSTROUTING -o eth0 -j MASQUERADE',
        '-A PALISADE-PREROUTING -i eth0 -p tcp --dport 80 -j REDIRECT --to-ports 8080',
        '-I POSTROUTING 1 -j PALISADE-POSTROUTING',
        '-I PREROUTING 1 -j PALISADE-PREROUTING',
        'COMMIT',
        '*mangle',
        ':PALISADE-FORWARD - [0:0]',
        '-A PALISADE-FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu',
        '-I FORWARD 1 -j PALISADE-FORWARD',
        'COMMIT',
        '',
      ].join('\n'),
    );
    assert.ok(!out.v6.includes('*nat') && !out.v6.includes('*mangle'));
  });

  it('shortens long chain names and log prefixes deterministically', () => {
    assert.equal(longChain.length, IPTABLES_CHAIN_MAX);
    assert.match(longChain, /^PALISADE-U-averyveryv-[0-9a-f]{6}$/);
    const prefix = /--log-prefix "([^"]*)"/.exec(lines(out.v4).find((l) => l.startsWith(`-A ${longChain} -m limit`)) ?? '')?.[1];
    assert.match(prefix ?? '', /^DROP_PAL_OUT_averyver-[0-9a-f]{6} $/);
    assert.equal(prefix?.length, 29);
    assert.ok(out.v4.includes('--log-prefix "DROP_PAL_OUT_www-data "'));
  });

  it('cannot be broken out of by a hostile comment, and cuts comments to 255 characters', () => {
    assert.ok(out.v6.includes('-A PALISADE-INPUT -m set --match-set pal6_empty00000000 src -p tcp --dport 9000 -m comment --comment "Evil _ flush ruleset_-A INPUT -j ACCEPT_" -j ACCEPT\n'));
    for (const line of lines(out.v6)) assert.match(line, /^(\*filter|:PALISADE-|-A PALISADE-|-I (INPUT|OUTPUT|FORWARD) 1 -j PALISADE-|COMMIT|)/);
    const long = renderIptables(withInputRule(acceptRule([], 'y'.repeat(400)))).toText().v4;
    assert.ok(long.includes(`-A PALISADE-INPUT -m comment --comment "${'y'.repeat(IPTABLES_COMMENT_MAX)}" -j ACCEPT\n`));
  });

  it('writes each set for ipset restore, splitting /0 into halves', () => {
    const ipset = lines(out.ipset);
    assert.deepEqual(ipset.slice(0, 6), [
      'create pal4_any0000000000 hash:net family inet maxelem 1048576 -exist',
      'flush pal4_any0000000000',
      'add pal4_any0000000000 0.0.0.0/1',
      'add pal4_any0000000000 128.0.0.0/1',
      'create pal4_empty00000000 hash:net family inet maxelem 1048576 -exist',
      'flush pal4_empty00000000',
    ]);
    for (const line of ['create pal6_any0000000000 hash:net family inet6 maxelem 1048576 -exist', 'add pal6_any0000000000 ::/1', 'add pal6_any0000000000 8000::/1', 'add pal4_nets000000000 192.168.0.0/24', 'add pal6_web0000000000 2001:db8::12']) {
      assert.ok(ipset.includes(line), line);
    }
    assert.equal(ipset.filter((l) => l.startsWith('create ')).length, 7);
  });

  it('is byte-deterministic', () => {
    assert.deepEqual(renderIptables(fixture()).toText(), out);
    assert.deepEqual(renderIptables(structuredClone(fixture())).toText(), out);
  });

  it('renders an empty ruleset as empty filter tables', () => {
    assert.deepEqual(renderIptables(emptyRuleset()).toText(), { ipset: '', v4: '*filter\nCOMMIT\n', v6: '*filter\nCOMMIT\n' });
  });

  it('refuses contradictory families, unsafe names, raw text with line breaks and unknown jump targets', () => {
    assert.throws(
      () => renderIptables(withInputRule(acceptRule([{ kind: 'saddr', set: 'pal4_x', family: 4 }, { kind: 'proto', protocol: 'icmpv6' }]))).toText(),
      /both IPv4 and IPv6/,
    );
    assert.throws(() => renderIptables(withInputRule(acceptRule([{ kind: 'oif', name: 'eth0 -j ACCEPT' }]))).toText(), /unsafe interface name/);
    assert.throws(() => renderIptables(withInputRule({ ...acceptRule([]), raw: { iptables: '-j ACCEPT\nCOMMIT' } })).toText(), /control character/);
    const rs = emptyRuleset();
    rs.rawIptables.push({ table: 'nat', chain: 'POSTROUTING', rule: '-j MASQUERADE\n*filter', name: 'x' });
    assert.throws(() => renderIptables(rs).toText(), /control character/);
    assert.throws(
      () => renderIptables(withInputRule({ ...acceptRule([]), verdict: { kind: 'jump', chain: 'input' } })).toText(),
      /not a user chain/,
    );
  });
});
