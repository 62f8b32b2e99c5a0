import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IrRule, Ruleset } from '../../src/compile/ir.ts';
import { diffRulesets } from '../../src/compile/diff.ts';
import { FleetCompiler } from '../../src/compile/compile.ts';
import { compilerFor, compilerInputs, SMALL_INVENTORY } from '../helpers/compiler.ts';

const chain = (rs: Ruleset, name: string): IrRule[] => rs.chains.find((c) => c.name === name)?.rules ?? [];
const ruleNamed = (rs: Ruleset, chainName: string, rule: string): IrRule[] =>
  chain(rs, chainName).filter((r) => r.origin.kind === 'rule' && r.origin.rule === rule);
function setOf(rs: Ruleset, rule: IrRule): string[] {
  const m = rule.matches.find((x) => x.kind === 'saddr' || x.kind === 'daddr');
  assert.ok(m && (m.kind === 'saddr' || m.kind === 'daddr'));
  return rs.sets.find((s) => s.name === m.set)?.elements ?? [];
}

const POLICY = `
settings:
  output_drop: true
rules:
  Mongo from web:
    on: roles:mongodb
    direction: in
    protocol: tcp
    user: mongodb
    source: roles:web AND SAMETAG
    dport: 27017
  Web from everywhere in env:
    on: roles:web
    direction: in
    protocol: tcp
    source: "*:*"
    dport: [80, 443]
  Scrape from monitoring anywhere:
    direction: in
    protocol: tcp
    source: roles:monitoring
    dport: 9100
    options: [disable_env_limit]
  Nobody:
    on: roles:web
    direction: in
    protocol: tcp
    source: roles:nonexistent
    dport: 8080
  Web to mongo:
    on: roles:web
    direction: out
    protocol: tcp
    user: www-data
    destination: [roles:mongodb, backup.example.net, unknown.example.net]
    dport: 27017
  Prometheus out:
    direction: out
    protocol: tcp
    user: prometheus
    destination: "*:*"
    dport: 9100
`;

test('base order: loopback, established, neighbour discovery, failsafe, rules, log, drop', () => {
  const rs = compilerFor(POLICY, SMALL_INVENTORY).compile('db-1');
  const kinds = chain(rs, 'input').map((r) => (r.origin.kind === 'base' ? r.origin.what : r.origin.kind));
  assert.deepEqual(kinds, ['loopback', 'established', 'icmpv6-link', 'failsafe', 'rule', 'rule', 'rule', 'rule', 'log', 'default']);
  const last = chain(rs, 'input').at(-1);
  assert.deepEqual(last?.verdict, { kind: 'drop' });
});

test('SAMETAG selects hosts sharing a tag with the compiled host, in its environment', () => {
  const rs = compilerFor(POLICY, SMALL_INVENTORY).compile('db-1');
  const [v4, v6] = ruleNamed(rs, 'input', 'Mongo from web');
  assert.ok(v4 && v6);
  assert.deepEqual(setOf(rs, v4), ['10.0.1.11', '10.0.1.12']);
  assert.deepEqual(setOf(rs, v6), ['2001:db8::11']);
});

test('queries are limited to the environment unless disable_env_limit', () => {
  const compiler = compilerFor(POLICY, SMALL_INVENTORY);
  const webS = compiler.compile('web-s');
  const [everyone] = ruleNamed(webS, 'input', 'Web from everywhere in env');
  assert.ok(everyone);
  assert.deepEqual(setOf(webS, everyone), ['10.1.1.11']);
  const [scrape] = ruleNamed(webS, 'input', 'Scrape from monitoring anywhere');
  assert.ok(scrape);
  assert.deepEqual(setOf(webS, scrape), ['10.0.9.1']);
});

test('an empty query result matches nothing: the set is empty, never "any"', () => {
  const rs = compilerFor(POLICY, SMALL_INVENTORY).compile('web-1');
  const rules = ruleNamed(rs, 'input', 'Nobody');
  assert.equal(rules.length, 2);
  for (const rule of rules) assert.deepEqual(setOf(rs, rule), []);
});

test('outbound rules go to a per-user chain dispatched on the socket owner uid', () => {
  const rs = compilerFor(POLICY, SMALL_INVENTORY, { 'backup.example.net': { v4: ['203.0.113.5'], v6: [] } }).compile('web-1');
  const dispatch = chain(rs, 'output').filter((r) => r.verdict.kind === 'jump');
  assert.deepEqual(dispatch.map((r) => r.matches), [[{ kind: 'skuid', uid: 33 }]]);
  const user = rs.chains.find((c) => c.name === 'user_www-data');
  assert.ok(user);
  const [v4] = user.rules;
  assert.ok(v4);
  assert.deepEqual(setOf(rs, v4), ['10.0.2.21', '203.0.113.5']);
  assert.deepEqual(user.rules.at(-2)?.verdict, { kind: 'log', prefix: 'DROP_PAL_OUT_www-data' });
  assert.deepEqual(user.rules.at(-1)?.verdict, { kind: 'drop' });
  assert.ok(rs.warnings.some((w) => w.includes('unknown.example.net') && w.includes('matches nothing')));
});

test('a rule whose user does not exist on the host is skipped with a warning', () => {
  const rs = compilerFor(POLICY, SMALL_INVENTORY).compile('web-1');
  assert.equal(rs.chains.some((c) => c.name === 'user_prometheus'), false);
  assert.ok(rs.warnings.some((w) => w.includes('"Prometheus out" skipped') && w.includes('prometheus')));
});

test('the same inputs compile to the same ruleset', () => {
  const a = compilerFor(POLICY, SMALL_INVENTORY).compileAll();
  const b = compilerFor(POLICY, SMALL_INVENTORY).compileAll();
  assert.deepEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
});

test('a host joining changes set members only: names and rules stay, so it applies as element updates', () => {
  const before = compilerFor(POLICY, SMALL_INVENTORY).compile('db-1');
  const joined = `${SMALL_INVENTORY}
  - name: web-3
    environment: production
    roles: [web]
    tags: [shop]
    interfaces: { eth0: [10.0.1.13] }
    lan: eth0
    users: { www-data: 33 }
`;
  const after = compilerFor(POLICY, joined).compile('db-1');
  assert.deepEqual(after.sets.map((s) => s.name), before.sets.map((s) => s.name));
  const diff = diffRulesets(before, after);
  assert.equal(diff.membershipOnly, true);
  assert.deepEqual(Object.values(diff.elementsAdded).flat().sort(), ['10.0.1.13']);
});

test('input_drop off: nothing is dropped, drops are only logged', () => {
  const rs = compilerFor(`settings: { input_drop: false, output_drop: false }\n${POLICY.replace(/settings:\n  output_drop: true\n/, '')}`, SMALL_INVENTORY).compile('web-1');
  assert.equal(chain(rs, 'input').some((r) => r.verdict.kind === 'drop'), false);
  assert.deepEqual(chain(rs, 'input').at(-1)?.verdict, { kind: 'log', prefix: 'DROP_PAL_INPUT' });
  assert.deepEqual(rs.chains.find((c) => c.name === 'user_www-data')?.rules.at(-1)?.verdict, { kind: 'accept' });
});

const EXTRA = `
rules:
  Office:
    on: roles:web
    direction: in
    protocol: tcp
    interface: all
    source: [198.51.100.0/24, "2001:db8:ff::/48", 203.0.113.7]
    dport: 8000:8010
  V4 only:
    on: roles:web
    direction: in
    protocol: udp
    interface: eth1
    source: 192.0.2.0/24
    dport: 53
  Staging only:
    on: roles:web
    env: staging
    direction: in
    protocol: icmp
    source: "*:*"
raw:
  Invalid:
    on: roles:web
    nft: add rule inet palisade input ct state invalid drop
    iptables: { table: filter, rule: "-A INPUT -m conntrack --ctstate INVALID -j DROP" }
  Masquerade:
    iptables: { table: nat, rule: "-A POSTROUTING -o eth0 -j MASQUERADE" }
`;

test('IPv4 and IPv6 entries go to sets of their own family, CIDRs make interval sets', () => {
  const rs = compilerFor(EXTRA, SMALL_INVENTORY).compile('web-1');
  const [v4, v6] = ruleNamed(rs, 'input', 'Office');
  assert.ok(v4 && v6);
  assert.deepEqual(setOf(rs, v4), ['198.51.100.0/24', '203.0.113.7']);
  assert.deepEqual(setOf(rs, v6), ['2001:db8:ff::/48']);
  assert.ok(rs.sets.every((s) => s.elements.every((e) => e.includes(':') === (s.family === 6))));
  assert.equal(v4.matches.some((m) => m.kind === 'iif'), false, 'interface: all matches every interface');
  const v4only = ruleNamed(rs, 'input', 'V4 only');
  assert.equal(v4only.length, 1, 'a rule with only v4 addresses has no v6 rule');
  assert.deepEqual(v4only[0]?.matches[0], { kind: 'iif', name: 'eth1' });
  assert.ok(rs.warnings.some((w) => w.includes('"V4 only"') && w.includes('eth1')));
});

test('env: limits which hosts carry a rule; icmp is IPv4 only', () => {
  const compiler = compilerFor(EXTRA, SMALL_INVENTORY);
  assert.equal(ruleNamed(compiler.compile('web-1'), 'input', 'Staging only').length, 0);
  const staging = ruleNamed(compiler.compile('web-s'), 'input', 'Staging only');
  assert.equal(staging.length, 1);
  assert.ok(staging[0]?.matches.some((m) => m.kind === 'proto' && m.protocol === 'icmp'));
});

test('raw rules sit at the rules position; other tables go to the raw iptables list', () => {
  const compiler = compilerFor(EXTRA, SMALL_INVENTORY);
  const web = compiler.compile('web-1');
  const raw = chain(web, 'input').filter((r) => r.origin.kind === 'raw');
  assert.deepEqual(raw.map((r) => r.raw), [{ nft: 'ct state invalid drop', iptables: '-m conntrack --ctstate INVALID -j DROP' }]);
  assert.deepEqual(web.rawIptables.map((r) => [r.table, r.chain, r.name]), [['nat', 'POSTROUTING', 'Masquerade']]);
  assert.ok(web.warnings.some((w) => w.includes('"Masquerade" has no nft form')));
  assert.equal(chain(compiler.compile('db-1'), 'input').some((r) => r.origin.kind === 'raw'), false);
});

test('a raw iptables rule without nft form takes its translation, in the chain of its table; an untranslatable one is an error of the hosts carrying it', () => {
  const policy = `
raw:
  Redirect:
    on: roles:web
    iptables: { table: nat, rule: "-A PREROUTING -p tcp --dport 80 -j REDIRECT --to-ports 8080" }
  Bridge:
    on: roles:web
    iptables: { table: filter, rule: "-I FORWARD -m physdev --physdev-is-bridged -j ACCEPT" }
  Trusted:
    iptables: { table: filter, rule: "-I INPUT -s 192.0.2.1 -j ACCEPT" }
  Own form:
    nft: add rule inet palisade nat_postrouting oifname "eth0" masquerade
`;
  const rawTranslations = new Map([
    ['Redirect', { nft: ['meta nfproto ipv4 tcp dport 80 counter redirect to :8080'] }],
    ['Bridge', { error: 'no nft equivalent' }],
    ['Trusted', { nft: ['meta nfproto ipv4 ip saddr 192.0.2.1 counter accept'] }],
  ]);
  const compiler = new FleetCompiler({ ...compilerInputs(policy, SMALL_INVENTORY), rawTranslations });
  const web = compiler.compile('web-1');
  assert.deepEqual(web.rawIptables, [
    { rule: '-p tcp --dport 80 -j REDIRECT --to-ports 8080', nft: 'meta nfproto ipv4 tcp dport 80 counter redirect to :8080', table: 'nat', chain: 'PREROUTING', name: 'Redirect' },
    { nft: 'oifname "eth0" masquerade', table: 'nat', chain: 'POSTROUTING', name: 'Own form' },
  ]);
  assert.deepEqual(chain(web, 'input')[0]?.raw, { nft: 'meta nfproto ipv4 ip saddr 192.0.2.1 counter accept', iptables: '-s 192.0.2.1 -j ACCEPT' }, '-I: at the top');
  assert.deepEqual(chain(web, 'forward').flatMap((r) => (r.raw === undefined ? [] : [r.raw])), [{ iptables: '-m physdev --physdev-is-bridged -j ACCEPT' }]);
  assert.deepEqual(web.untranslatable?.map((d) => [d.rule, d.line, d.severity]), [['Bridge', 6, 'error']]);
  assert.match(web.untranslatable?.[0]?.message ?? '', /no nft form, and iptables-translate cannot translate the iptables form \(no nft equivalent\): write its nft form/);
  assert.ok(web.warnings.some((w) => w.includes('"Own form" has no iptables form')));
  assert.equal(compiler.compile('db-1').untranslatable, undefined, 'db-1 does not carry the rule');
  const untranslated = compilerFor(policy, SMALL_INVENTORY).compile('web-1');
  assert.ok(untranslated.warnings.some((w) => w.includes('"Redirect" has no nft form: the nft backend skips it')), 'without translations: skipped with a warning');
});
