/**
 * Import from the tools hosts run today, on inputs those tools wrote: iptables-save of a ruleset loaded in a
 * namespace (and of ufw 0.36 enabled in one), ufw's user.rules/user6.rules and `ufw status` as ufw 0.36.2
 * printed them after `ufw allow/deny/reject/limit`, a firewalld zone in the format firewall-cmd saves.
 * Every hostile input gets an error at file:line.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../../src/diagnostics.ts';
import { parseFirewalldZone, readFirewalldZone } from '../../src/import/firewalld.ts';
import { parseIptablesSave } from '../../src/import/iptables-save.ts';
import { mergeImports, type ImportedEntry, type ImportedPolicy } from '../../src/import/model.ts';
import { parseUfw } from '../../src/import/ufw.ts';
import { formatVerifyReport, verifyImport } from '../../src/import/verify.ts';
import { linkName } from '../../src/lab/import-verify.ts';
import { firewalldEffect, originalLoad } from '../../src/import/original.ts';
import { writeImportedPolicy } from '../../src/import/write.ts';
import { parsePolicyFiles } from '../../src/policy/load.ts';
import { parsePasswd } from '../../src/app/import.ts';
import { runCli } from '../helpers/cli.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const fixture = (name: string): { text: string; file: string } => ({ text: readFileSync(join(FIXTURES, name), 'utf8'), file: name });
const USERS = new Map([[33, 'www-data']]);

/** An entry without its position and name: what it matches and does. */
function shape(e: ImportedEntry): string {
  const r = e.kind === 'raw' ? { ...e.known, action: 'raw' } : e;
  const ports = (p: typeof r.dport): string => (p === null ? '*' : p.map((x) => (x.from === x.to ? `${x.from}` : `${x.from}-${x.to}`)).join(','));
  const limit = e.kind === 'rule' && e.limit !== null ? ` limit ${e.limit.rate}/${e.limit.unit} burst ${e.limit.burst} per ${e.limit.per}` : '';
  return `${r.direction} ${r.action} ${r.protocol} v${r.family} [${r.peers.join(',')}] dport ${ports(r.dport)} sport ${ports(r.sport)}${r.interface === null ? '' : ` if ${r.interface}`}${r.user === null ? '' : ` user ${r.user.name}`}${r.icmpType === null ? '' : ` ${r.icmpType}`}${limit}`;
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof InputError, `expected an InputError, got ${String(e)}`);
    const d = e.diagnostics[0];
    assert.ok(d !== undefined && d.line !== undefined && d.file !== undefined, 'the error has a file and a line');
    return `${d.file}:${d.line}: ${d.message}`;
  }
  assert.fail('expected an error');
}

/** The written policy is valid; returns it parsed. */
function validPolicy(imported: ImportedPolicy, host: string | null = null): ReturnType<typeof parsePolicyFiles> {
  const { text } = writeImportedPolicy(imported, { host });
  return parsePolicyFiles([{ path: 'imported.yaml', text }]);
}

describe('import: iptables-save', () => {
  const { text, file } = fixture('iptables-save.txt');
  const imported = parseIptablesSave(text, { file, users: USERS });

  it('reads the filter table in order, user chains inlined, defaults from the policies', () => {
    assert.equal(imported.input, 'drop');
    assert.equal(imported.output, 'accept');
    assert.deepEqual(imported.entries.map(shape), [
      'in raw all v4 [] dport * sport *',
      'in accept icmp v4 [] dport * sport * echo-request limit 10/second burst 20 per rule',
      'in accept tcp v4 [203.0.113.0/24] dport 22 sport *',
      'in accept tcp v4 [] dport 80,443 sport *',
      'in accept tcp v4 [10.9.0.0/16] dport 9100 sport *',
      'in accept udp v4 [10.9.0.0/16] dport 161 sport *',
      'in drop all v4 [198.51.100.7/32] dport * sport *',
      'in raw tcp v4 [] dport 5432 sport *',
      'in accept tcp v4 [10.0.0.0/8] dport 5432 sport *',
      'in raw udp v4 [] dport 514 sport *',
      'in log all v4 [] dport * sport * limit 5/minute burst 5 per rule',
      'in reject tcp v4 [] dport * sport *',
      'out reject all v4 [192.0.2.66/32] dport * sport *',
      'out reject tcp v4 [] dport 25 sport * user www-data',
    ]);
    assert.equal(imported.entries[2]?.kind === 'rule' && imported.entries[2].name, 'ssh from the office');
  });

  it('lists what it leaves out, with the line and why', () => {
    const notes = imported.notes.map((n) => `${n.place.line}${n.covered ? ' covered' : ''}: ${n.message.split(':')[0]}`);
    assert.deepEqual(notes, ['7 covered: loopback accepted', '8 covered: established and related accepted', '20: FORWARD', '21 covered: loopback accepted', '35: table nat']);
    const raws = imported.entries.flatMap((e) => (e.kind === 'raw' ? [`${e.place.line}: ${e.reason}: ${e.rule}`] : []));
    assert.deepEqual(raws, [
      '9: state INVALID: -A INPUT -m conntrack --ctstate INVALID -j DROP',
      '15: -m recent: -A INPUT -p tcp -m tcp --dport 5432 -m recent --rcheck --seconds 60 --name pg --mask 255.255.255.255 --rsource -j DROP',
      '17: -m hashlimit: -A INPUT -p udp -m udp --dport 514 -m hashlimit --hashlimit-upto 100/sec --hashlimit-burst 5 --hashlimit-mode srcip --hashlimit-name syslog -j ACCEPT',
    ]);
  });

  it('writes a valid policy: settings, rules for the host, raw rules, the header listing every loss', () => {
    const { text: policy } = writeImportedPolicy(imported, { host: 'web-1' });
    const { policy: parsed } = parsePolicyFiles([{ path: 'imported.yaml', text: policy }]);
    assert.equal(parsed.settings.inputDrop, true);
    assert.equal(parsed.settings.outputDrop, false);
    assert.equal(parsed.rules.length, 11);
    assert.equal(parsed.raw.length, 3);
    assert.ok(parsed.rules.every((r) => r.onText === 'name:web-1'));
    assert.match(policy, /# Not imported \(2\):\n# {3}iptables-save.txt:20: FORWARD/);
    assert.match(policy, /"ssh from the office":\n {4}on: "name:web-1"\n {4}direction: in\n {4}protocol: tcp\n {4}source: \["203.0.113.0\/24"\]\n {4}dport: \[22\]/);
  });

  it('verify: the only differences are palisade\'s failsafe (SSH in, DNS out), each named', () => {
    const { policy } = validPolicy(imported, 'web-1');
    const report = verifyImport(imported, policy, 'web-1');
    const lines = report.differences.map((d) => `${d.original.decision} by ${d.original.by} / ${d.palisade.decision} by ${d.palisade.by}: ${d.flows.length}`);
    assert.deepEqual(lines.sort(), [
      'drop by iptables-save.txt:14 / accept by failsafe in #1: 1',
      'reject by iptables-save.txt:19 / accept by failsafe in #1: 6',
      'reject by iptables-save.txt:22 / accept by failsafe out #1: 2',
      'reject by iptables-save.txt:22 / accept by failsafe out #2: 2',
    ]);
    assert.deepEqual(report.notCompared.map((n) => n.by), ['the raw rule at iptables-save.txt:15 may decide', 'the raw rule at iptables-save.txt:17 may decide']);
    assert.ok(report.compared > 1000);
    assert.match(formatVerifyReport(report, 'iptables-save'), /~ iptables-save: drop by iptables-save.txt:14; palisade: accept by failsafe in #1 \(1 flow, ports 22\)\n {4}in tcp\/22 from 198.51.100.7\n/);
  });

  it('reads ufw\'s chains from an iptables-save of ufw enabled, and iptables-save -c counters', () => {
    const ufw = fixture('ufw-enabled.iptables-save');
    const imported2 = parseIptablesSave(ufw.text, { file: ufw.file });
    assert.ok(imported2.entries.some((e) => shape(e) === 'in accept tcp v4 [10.0.0.0/8] dport 3306 sport *'));
    validPolicy(imported2);
    const counted = parseIptablesSave('*filter\n:INPUT ACCEPT [5:300]\n[3:180] -A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\n[0:0] -A INPUT -j DROP\nCOMMIT\n', { file: 'c' });
    assert.equal(counted.input, 'drop');
    assert.deepEqual(counted.entries.map(shape), ['in accept tcp v4 [] dport 22 sport *']);
  });

  it('ip6tables-save: IPv6 rules, merged with the IPv4 file', () => {
    const v6 = parseIptablesSave('*filter\n:INPUT DROP [0:0]\n-A INPUT -s 2001:db8::/32 -p tcp -m tcp --dport 443 -j ACCEPT\n-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT\nCOMMIT\n', { file: 'v6' });
    assert.deepEqual(v6.entries.map(shape), ['in accept tcp v6 [2001:db8::/32] dport 443 sport *', 'in accept icmpv6 v6 [] dport * sport * echo-request']);
    const both = mergeImports([imported, v6]);
    assert.equal(both.entries.length, imported.entries.length + 2);
    validPolicy(both);
  });

  it('refuses hostile and malformed input at its line', () => {
    const cases: Array<[string, RegExp]> = [
      ['*filter\n:INPUT ACCEPT [0:0]\n-A INPUT --comment "open\nCOMMIT\n', /^x:3: unterminated double quote/],
      ['*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 70000 -j ACCEPT\nCOMMIT\n', /^x:3: "70000" is not a port/],
      ['*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 10.0.0.300 -j ACCEPT\nCOMMIT\n', /^x:3: "10.0.0.300" is not a valid IP/],
      ['-A INPUT -j ACCEPT\n', /^x:1: a rule or chain outside a table/],
      ['*bogus\nCOMMIT\n', /^x:1: unknown table "bogus"/],
      ['*filter\n:INPUT ACCEPT [0:0]\n', /^x:2: table filter has no COMMIT/],
      ['*filter\n:INPUT ACCEPT [0:0]\n-A NOPE -j ACCEPT\nCOMMIT\n', /^x:3: rule in chain "NOPE", which has no ":NOPE" line/],
      ['*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j mychain\nCOMMIT\n', /^x:3: jump to chain "mychain", which this file does not declare/],
      ['*filter\n:INPUT ACCEPT [0:0]\n:a - [0:0]\n:b - [0:0]\n-A INPUT -j a\n-A a -j b\n-A b -j a\nCOMMIT\n', /^x:7: jump to chain "a" loops back/],
      ['*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT ; rm -rf /\n-A INPUT stray\nCOMMIT\n', /^x:4: unexpected "stray"/],
      ['*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 10.0.0.0/8 -j ACCEPT\n-A INPUT -s 2001:db8::/32 -j ACCEPT\nCOMMIT\n', /^x:1: IPv4 and IPv6 addresses in one file/],
      [`*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -m comment --comment "${'a'.repeat(70000)}"\nCOMMIT\n`, /^x:3: line longer than/],
      ['*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n', /^x:1: no "\*filter" table/],
    ];
    for (const [input, expected] of cases) assert.match(errorOf(() => parseIptablesSave(input, { file: 'x' })), expected, input.slice(0, 60));
    const deep = ['*filter', ':INPUT ACCEPT [0:0]', ...Array.from({ length: 40 }, (_, i) => `:c${i} - [0:0]`), '-A INPUT -j c0', ...Array.from({ length: 39 }, (_, i) => `-A c${i} -j c${i + 1}`), 'COMMIT'].join('\n');
    assert.match(errorOf(() => parseIptablesSave(deep, { file: 'x' })), /chains nested deeper than 16/);
  });

  it('a comment cannot become YAML: quotes, newlines and escapes stay in the rule name', () => {
    const hostile = parseIptablesSave('*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp -m tcp --dport 80 -m comment --comment "x\\"\\n  evil: [\\u001b]" -j ACCEPT\nCOMMIT\n', { file: 'h' });
    const { policy } = validPolicy(hostile);
    assert.equal(policy.rules.length, 1);
    assert.equal(policy.rules[0]?.name, 'x"n  evil: [u001b]');
  });
});

describe('import: ufw', () => {
  const rules = mergeImports(['ufw-user.rules', 'ufw-user6.rules'].map((n) => parseUfw(fixture(n).text, n)));
  const status = parseUfw(fixture('ufw-status-verbose.txt').text, 'ufw-status-verbose.txt');
  const numbered = parseUfw(fixture('ufw-status-numbered.txt').text, 'ufw-status-numbered.txt');

  it('reads the tuples ufw writes: allow, deny, reject, limit, interfaces, source ports, comments, v6', () => {
    const v4 = rules.entries.filter((e) => e.kind === 'rule' && e.family === 4).map(shape);
    assert.deepEqual(v4, [
      ...['destination-unreachable', 'time-exceeded', 'parameter-problem', 'echo-request'].map((t) => `in accept icmp v4 [] dport * sport * ${t}`),
      'in accept tcp v4 [] dport 22 sport *',
      'in accept tcp v4 [] dport 2222 sport * limit 12/minute burst 6 per source',
      'in reject tcp v4 [] dport 2222 sport *',
      'in accept tcp v4 [] dport 80,443 sport *',
      'in accept tcp v4 [10.0.0.0/8] dport 3306 sport *',
      'in drop all v4 [203.0.113.5/32] dport * sport *',
      'in reject tcp v4 [] dport 25 sport *',
      'in accept all v4 [192.168.50.0/24] dport * sport * if eth1',
      'out accept udp v4 [] dport 53 sport *',
      'in accept tcp v4 [] dport 9100 sport *',
      'in accept udp v4 [] dport 60000-61000 sport *',
      'out drop all v4 [198.51.100.0/24] dport * sport *',
      'in accept udp v4 [10.1.2.3/32] dport 6000 sport 5000',
      'in accept tcp v4 [] dport 8443 sport *',
    ]);
    assert.ok(rules.entries.some((e) => e.kind === 'rule' && e.name === 'mysql from lan'));
    assert.ok(rules.notes.some((n) => /local address 10.0.0.5\/32/.test(n.message)));
    assert.ok(rules.notes.some((n) => /defaults are not in its rules files/.test(n.message)));
    validPolicy(rules);
  });

  it('ufw status (verbose and numbered) gives the same rules as the rules files', () => {
    const set = (p: ImportedPolicy): string[] => p.entries.map(shape).sort();
    assert.deepEqual(set(status), set(rules));
    assert.deepEqual(set(numbered), set(rules));
    assert.equal(status.input, 'drop');
    assert.equal(status.output, 'accept');
  });

  it('verify: only the DNS failsafe differs (ufw denies tcp/53 to 198.51.100.0/24; udp/53 it allows first)', () => {
    const { policy } = validPolicy(rules);
    const report = verifyImport(rules, policy, 'h');
    assert.deepEqual(report.differences.map((d) => `${d.original.decision} ${d.original.by} / ${d.palisade.by}`), ['drop ufw-user.rules:55 / failsafe out #2']);
    assert.ok(report.differences[0]?.flows.every((f) => f.protocol === 'tcp' && f.dport === 53 && f.peer.startsWith('198.51.100.')));
  });

  it('refuses malformed files at their line', () => {
    const head = '*filter\n:ufw-user-input - [0:0]\n';
    assert.match(errorOf(() => parseUfw(`${head}### tuple ### allow tcp 22 0.0.0.0/0\nCOMMIT\n`, 'u')), /^u:3: a ufw tuple has 7 or 9 fields/);
    assert.match(errorOf(() => parseUfw(`${head}### tuple ### permit tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\nCOMMIT\n`, 'u')), /^u:3: "permit" is not a ufw action/);
    assert.match(errorOf(() => parseUfw(`${head}### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in comment=zz\nCOMMIT\n`, 'u')), /^u:3: comment= is not hexadecimal/);
    assert.match(errorOf(() => parseUfw(`${head}### tuple ### allow tcp 99999 0.0.0.0/0 any 0.0.0.0/0 in\nCOMMIT\n`, 'u')), /^u:3: "99999" is not a port list/);
    assert.match(errorOf(() => parseUfw(`${head}rm -rf /\n`, 'u')), /^u:3: not a line of a ufw rules file/);
    assert.match(errorOf(() => parseUfw('Status: inactive\n', 's')), /^s:1: ufw is inactive/);
    assert.match(errorOf(() => parseUfw('Status: active\n\nTo  Action  From\n--  ------  ----\nSomeApp  ALLOW IN  Anywhere\n', 's')), /^s:5: unknown ufw application profile "SomeApp"/);
    assert.match(errorOf(() => parseUfw('Status: active\n\nTo  Action  From\n--  ------  ----\ngarbage\n', 's')), /^s:5: not a ufw status row/);
  });

  it('application profiles in ufw status become their ports', () => {
    const p = parseUfw('Status: active\n\nTo                         Action      From\n--                         ------      ----\nOpenSSH                    ALLOW IN    Anywhere\nNginx Full                 ALLOW IN    10.0.0.0/8\n', 's');
    assert.deepEqual(p.entries.map(shape).slice(9), ['in accept tcp v4 [] dport 22 sport *', 'in accept tcp v4 [10.0.0.0/8] dport 80,443 sport *']);
    assert.ok(p.entries.slice(0, 9).every((e) => e.kind === 'rule' && e.icmpType !== null), 'ufw\'s own ICMP acceptance comes first');
  });
});

describe('import: firewalld', () => {
  const zone = parseFirewalldZone(fixture('firewalld-public.xml').text, 'firewalld-public.xml');

  it('orders as the zone chains do: negative priority, log, deny, allow; the default target rejects', () => {
    assert.equal(zone.input, 'reject');
    assert.deepEqual(zone.entries.map(shape), [
      'in reject tcp vboth [] dport 25 sport *',
      'in log tcp v4 [192.168.1.0/24] dport 9100 sport * limit 3/minute burst 5 per rule',
      'in reject icmp v4 [] dport * sport * timestamp-request',
      'in drop all v4 [203.0.113.5/32] dport * sport *',
      'in accept tcp vboth [] dport 22 sport *',
      'in accept udp vboth [] dport 546 sport *',
      'in accept tcp vboth [] dport 80 sport *',
      'in accept tcp vboth [] dport 443 sport *',
      'in accept tcp vboth [] dport 9090 sport *',
      'in accept tcp vboth [] dport 8080 sport *',
      'in accept udp vboth [] dport 60000-61000 sport *',
      'in accept tcp v4 [10.0.0.0/8] dport 3306 sport *',
      'in accept tcp v4 [192.168.1.0/24] dport 9100 sport *',
      'in accept tcp v6 [2001:db8:1::/48] dport 5432 sport * limit 20/second burst 5 per rule',
      'in accept icmp v4 [] dport * sport *',
      'in accept icmpv6 v6 [] dport * sport *',
    ]);
    assert.deepEqual(zone.notes.map((n) => `${n.place.line}: ${n.message.split(':')[0]}`), ['10: service freeipa-4', '13: port sctp', '15: forward', '16: masquerade', '17: forward-port']);
    validPolicy(zone);
  });

  it('verify: only the SSH failsafe differs', () => {
    const { policy } = validPolicy(zone);
    const report = verifyImport(zone, policy, 'h');
    assert.deepEqual(report.differences.map((d) => `${d.original.decision} ${d.original.by} / ${d.palisade.by}: ${d.flows.map((f) => f.dport).join(',')}`), ['drop firewalld-public.xml:23 / failsafe in #1: 22']);
  });

  it('refuses hostile XML at its line', () => {
    const cases: Array<[string, RegExp]> = [
      ['<?xml version="1.0"?>\n<!DOCTYPE zone [<!ENTITY x "y">]>\n<zone/>', /^z:2: DOCTYPE, CDATA and other declarations are not accepted/],
      ['<zone>\n  <service name="&xxe;"/>\n</zone>', /^z:2: unknown entity &xxe;/],
      ['<zone>\n  <service name="ssh">\n</zone>', /^z:3: <\/zone> closes <service>/],
      ['<zone>\n  <port port="99999" protocol="tcp"/>\n</zone>', /^z:2: "99999" is not a port/],
      ['<zone>\n  <rule family="ipx"><accept/></rule>\n</zone>', /^z:2: rule family "ipx"/],
      ['<zone target="MAYBE"/>', /^z:1: zone target "MAYBE"/],
      ['<service/>', /^z:1: the root element is <service>/],
      ['<zone>\n<port protocol="tcp"/>\n</zone>', /^z:2: <port> needs the attribute port/],
      ['<zone>\n  <source address="10.0.0.1/8"/>\n</zone>', /^z:2: 10.0.0.1\/8 has host bits set/],
      [`<zone>${'<a>'.repeat(10000)}`, /^z:1: elements nested deeper than 32/],
      ['<zone></zone>trailing', /^z:1: content after the root element/],
    ];
    for (const [input, expected] of cases) assert.match(errorOf(() => parseFirewalldZone(input, 'z')), expected, input.slice(0, 60));
  });
});

describe('import: passwd and the command', () => {
  it('reads user names for uids, the first name of a uid wins', () => {
    assert.deepEqual([...parsePasswd('root:x:0:0::/root:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\ntoor:x:0:0::/:/bin/sh\nbroken\n')], [[0, 'root'], [33, 'www-data']]);
  });

  it('prints the policy (--verify, in namespaces: test/e2e/import-verify.test.ts)', async () => {
    const plain = await runCli(['import', '--from', 'firewalld', join(FIXTURES, 'firewalld-public.xml')]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /^# Imported by palisade import from firewalld/);
    assert.match(plain.stderr, /16 rule\(s\) imported, 0 kept as raw iptables rules, 5 line\(s\) not imported/);
    const ipt = await runCli(['import', '--from', 'iptables-save', join(FIXTURES, 'iptables-save.txt'), '--host', 'web-1']);
    assert.equal(ipt.code, 0, ipt.stderr);
    assert.match(ipt.stdout, /# For --backend iptables only: iptables-translate has no nft form for these[^\n]*\n# \S*iptables-save.txt:15: -m recent; nft: [^\n]*\n# {3}"iptables-save.txt:15 raw tcp\/5432 from any":\n/);
    assert.equal(parsePolicyFiles([{ path: 'p.yaml', text: ipt.stdout }]).policy.raw.length, 2, 'the translatable raw rules stay loadable');
    const wrong = await runCli(['import', '--from', 'pf', 'x']);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /unknown tool "pf": import reads iptables-save, ufw, firewalld/);
    const missing = await runCli(['import', '--from', 'ufw', join(FIXTURES, 'nope')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read .*nope: no such file or directory/);
  });
});

describe('import --verify: hostile names from the imported files', () => {
  it('only a plain interface name becomes a link in a namespace (no ip batch injection, no loopback, kernel length)', () => {
    for (const name of ['eth0\nnetns del pal-other', 'eth0 netns 1', 'lo', 'a'.repeat(16), '../x', 'eth0;', '', 'e\u001bth']) assert.equal(linkName(name), false, JSON.stringify(name));
    for (const name of ['eth1', 'br-lan.10', 'wg_0', 'a'.repeat(15)]) assert.equal(linkName(name), true, name);
  });

  it('firewalld\'s effect quotes a zone\'s interface so it stays one nft string', () => {
    const zone = readFirewalldZone('<zone><interface name="eth0&quot; accept; add table x \\"/><port port="80" protocol="tcp"/></zone>', 'z.xml');
    const script = firewalldEffect(zone);
    assert.match(script, /\t\tiifname "eth0\? accept; add table x \?" tcp dport \{ 80 \} ct state \{ new, untracked \} accept\n/);
    assert.equal(script.split('\n').filter((l) => l.includes('add table')).length, 1);
  });

  it('ufw status output cannot be loaded as ufw loads its rules: verify says so', () => {
    const status = { name: 's.txt', text: fixture('ufw-status-verbose.txt').text, part: parseUfw(fixture('ufw-status-verbose.txt').text, 's.txt') };
    const load = originalLoad('ufw', [status], []);
    assert.ok('unavailable' in load && /s.txt is ufw status output/.test(load.unavailable));
    const files = ['ufw-user.rules', 'ufw-user6.rules'].map((n) => ({ name: n, text: fixture(n).text, part: parseUfw(fixture(n).text, n) }));
    const steps = (originalLoad('ufw', files, []) as { steps: Array<{ tool: string; args: string[]; what: string }> }).steps;
    assert.deepEqual(steps.map((st) => `${st.tool} ${st.args.join(' ')}: ${st.what}`), [
      "iptables-restore : ufw's framework (before.rules, after.rules)",
      'iptables-restore --noflush: ufw-user.rules',
      "ip6tables-restore : ufw's framework (before6.rules, after6.rules)",
      'ip6tables-restore --noflush: ufw-user6.rules',
    ]);
  });
});
