import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError, formatDiagnostic } from '../../src/diagnostics.ts';
import { loadPolicy, parsePolicyFiles } from '../../src/policy/load.ts';
import { defaultContainerSettings } from '../../src/policy/container-settings.ts';

/** Every error of the files, formatted as `file:line:col: error: rule "X": message`. */
function errorsOf(...files: Array<{ path: string; text: string }>): string[] {
  try {
    parsePolicyFiles(files);
  } catch (cause) {
    if (!(cause instanceof InputError)) throw cause;
    return cause.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
  }
  return assert.fail('expected an InputError');
}

const errors = (text: string): string[] => errorsOf({ path: 'policy.yaml', text });

/** A policy with one rule "R" whose field lines (from line 3, column 5) are `fields`. */
const oneRule = (...fields: string[]): string => ['rules:', '  R:', ...fields.map((f) => `    ${f}`), ''].join('\n');

const IN_TCP = ['direction: in', 'protocol: tcp', 'source: 10.0.0.0/8', 'dport: 22'];

const FULL = `settings:
  input_drop: false
  output_drop: true
  input_drop_log: false
  output_drop_log: false
  rule_comments: false
  failsafe:
    in: [{ protocol: tcp, dport: 2222, source: [10.9.0.0/16, "2001:db8::1"] }]
rules:
  MongoDB App Entry Point:
    on: roles:mongodb
    direction: in
    protocol: tcp
    user: mongodb
    interface: eth1
    source:
      - (roles:webserver OR roles:api) AND SAMETAG
      - 10.4.76.2
      - 192.168.0.0/24
      - 2001:DB8:0::/32
      - backup-server.example.net
      - web-1
      - SAMETAG
    dport: [27017, "27018:27019", https, 80-81, 81]
    sport: 1024:65535
    env: production
    options: [disable_env_limit, disable_syntax_check]
  Outbound mail:
    direction: out
    protocol: tcp
    user: postfix
    interface: all
    destination: smtp.example.net
    dport: smtp
  Ping:
    direction: in
    protocol: icmp
    source: 10.0.0.0/8
    options: disable_env_limit
raw:
  Accept bridged traffic:
    on: roles:hypervisor
    env: production
    iptables: { table: filter, rule: "-A FORWARD -o br0 -m physdev --physdev-is-bridged -j ACCEPT" }
    nft: "add rule inet palisade forward oifname br0 accept"
  NAT only:
    iptables: { table: nat, rule: "-A PREROUTING -p tcp --dport 80 -j REDIRECT --to-ports 8080" }
`;

test('a complete valid policy: every field, canonical addresses, classification, ports', () => {
  const { policy, diagnostics } = parsePolicyFiles([{ path: 'dir/policy.yaml', text: FULL }]);
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(policy.settings, {
    inputDrop: false,
    outputDrop: true,
    inputDropLog: false,
    outputDropLog: false,
    ruleComments: false,
    defaultAction: 'drop',
    containers: defaultContainerSettings(),
    failsafe: {
      in: [
        {
          protocol: 'tcp',
          dport: [{ from: 2222, to: 2222 }],
          sport: null,
          peers: [
            { kind: 'cidr', text: '10.9.0.0/16', family: 4, cidr: '10.9.0.0/16' },
            { kind: 'cidr', text: '2001:db8::1', family: 6, cidr: '2001:db8::1/128' },
          ],
          origin: { file: 'dir/policy.yaml', line: 8, col: 10 },
        },
      ],
      out: [
        { protocol: 'udp', dport: [{ from: 53, to: 53 }], sport: null, peers: null, origin: null },
        { protocol: 'tcp', dport: [{ from: 53, to: 53 }], sport: null, peers: null, origin: null },
      ],
    },
  });
  const [mongo, mail, ping] = policy.rules;
  assert.ok(mongo && mail && ping && policy.rules.length === 3);
  assert.equal(mongo.name, 'MongoDB App Entry Point');
  assert.equal(mongo.onText, 'roles:mongodb');
  assert.equal(mongo.on?.kind, 'term');
  assert.equal(mongo.direction, 'in');
  assert.equal(mongo.protocol, 'tcp');
  assert.equal(mongo.user, 'mongodb');
  assert.deepEqual(mongo.interface, { kind: 'named', name: 'eth1' });
  assert.deepEqual(
    mongo.peers.map((p) => [p.kind, p.kind === 'cidr' ? p.cidr : p.kind === 'hostname' ? p.name : p.text]),
    [
      ['query', '(roles:webserver OR roles:api) AND SAMETAG'],
      ['cidr', '10.4.76.2/32'],
      ['cidr', '192.168.0.0/24'],
      ['cidr', '2001:db8::/32'],
      ['hostname', 'backup-server.example.net'],
      ['hostname', 'web-1'],
      ['query', 'SAMETAG'],
    ],
  );
  assert.deepEqual(mongo.dport, [{ from: 80, to: 81 }, { from: 443, to: 443 }, { from: 27017, to: 27019 }]);
  assert.deepEqual(mongo.sport, [{ from: 1024, to: 65535 }]);
  assert.equal(mongo.env, 'production');
  assert.deepEqual(mongo.options, { disableEnvLimit: true, disableSyntaxCheck: true });
  assert.deepEqual(mongo.origin, { file: 'dir/policy.yaml', line: 10, col: 3 });

  assert.equal(mail.on, null);
  assert.equal(mail.onText, null);
  assert.deepEqual(mail.interface, { kind: 'every' });
  assert.deepEqual(mail.peers, [{ kind: 'hostname', text: 'smtp.example.net', name: 'smtp.example.net' }]);
  assert.deepEqual(mail.dport, [{ from: 25, to: 25 }]);

  assert.deepEqual(ping.interface, { kind: 'every' });
  assert.equal(ping.user, null);
  assert.equal(ping.dport, null);
  assert.equal(ping.sport, null);
  assert.equal(ping.env, null);
  assert.deepEqual(ping.options, { disableEnvLimit: true, disableSyntaxCheck: false });

  const [bridged, nat] = policy.raw;
  assert.deepEqual({ ...bridged, on: undefined }, {
    name: 'Accept bridged traffic',
    on: undefined,
    onText: 'roles:hypervisor',
    env: 'production',
    nft: { chain: 'forward', rule: 'oifname br0 accept' },
    iptables: { table: 'filter', chain: 'FORWARD', rule: '-o br0 -m physdev --physdev-is-bridged -j ACCEPT', insert: false },
    origin: { file: 'dir/policy.yaml', line: 41, col: 3 },
  });
  assert.deepEqual(nat?.iptables, { table: 'nat', chain: 'PREROUTING', rule: '-p tcp --dport 80 -j REDIRECT --to-ports 8080', insert: false });
  assert.equal(nat?.nft, null);
  assert.equal(nat?.on, null);

  assert.deepEqual(policy.files, ['dir/policy.yaml']);
  assert.match(policy.revision, /^[0-9a-f]{16}$/);
});

test('defaults: AFW settings, and a policy with no settings', () => {
  const { policy } = parsePolicyFiles([{ path: 'p.yaml', text: oneRule(...IN_TCP) }]);
  assert.equal(policy.settings.inputDrop, true);
  assert.equal(policy.settings.outputDrop, false);
  assert.equal(policy.settings.inputDropLog, true);
  assert.equal(policy.settings.outputDropLog, true);
  assert.equal(policy.settings.ruleComments, true);
  assert.deepEqual(policy.settings.failsafe.in.map((e) => [e.protocol, e.dport]), [['tcp', [{ from: 22, to: 22 }]]]);
  assert.deepEqual(policy.settings.failsafe.out.map((e) => [e.protocol, e.dport]), [
    ['udp', [{ from: 53, to: 53 }]],
    ['tcp', [{ from: 53, to: 53 }]],
  ]);
  assert.deepEqual(parsePolicyFiles([{ path: 'empty.yaml', text: '' }]).policy.rules, []);
});

test('a given failsafe side replaces only that side; an empty one is a warning', () => {
  const text = 'settings:\n  failsafe:\n    out: []\n';
  const { policy, diagnostics } = parsePolicyFiles([{ path: 'p.yaml', text }]);
  assert.equal(policy.settings.failsafe.in.length, 1);
  assert.deepEqual(policy.settings.failsafe.out, []);
  assert.deepEqual(diagnostics.map(formatDiagnostic), [
    'p.yaml:3:5: warning: failsafe.out is empty: nothing stays open outbound if the rules lock you out',
  ]);
});

test('the revision depends on file names and contents, not directories', () => {
  const rev = (path: string, text: string): string => parsePolicyFiles([{ path, text }]).policy.revision;
  assert.equal(rev('a/p.yaml', 'rules: {}'), rev('b/p.yaml', 'rules: {}'));
  assert.notEqual(rev('a/p.yaml', 'rules: {}'), rev('a/q.yaml', 'rules: {}'));
  assert.notEqual(rev('a/p.yaml', 'rules: {}'), rev('a/p.yaml', 'rules: {} '));
});

test('unknown field typo: did you mean', () => {
  assert.deepEqual(errors(oneRule('direction: in', 'protocol: tcp', 'source: 10.0.0.0/8', 'dprot: 22')), [
    'policy.yaml:2:3: error: rule "R": missing "dport": a tcp rule needs a destination port',
    'policy.yaml:6:5: error: rule "R": unknown field "dprot" (did you mean "dport"?)',
  ]);
});

test('every error of a file is reported, in file order', () => {
  const text = oneRule('direction: inn', 'protocol: tpc', 'source: 10.0.0.1/24', 'dport: 0', 'colour: red');
  assert.deepEqual(errors(text), [
    'policy.yaml:3:16: error: rule "R": "direction" must be one of in, out, not "inn" (did you mean "in"?)',
    'policy.yaml:4:15: error: rule "R": "protocol" must be one of tcp, udp, icmp, icmpv6, vrrp, ospf, all, not "tpc" (did you mean "tcp"?)',
    'policy.yaml:5:13: error: rule "R": 10.0.0.1/24 has host bits set; did you mean 10.0.0.0/24?',
    'policy.yaml:6:12: error: rule "R": "dport": 0: a port is a number from 1 to 65535',
    'policy.yaml:7:5: error: rule "R": unknown field "colour"',
  ]);
});

test('errors of several rules and several files are all reported', () => {
  const a = 'rules:\n  A:\n    direction: in\n  B:\n    protocol: udp\n';
  const b = 'rules:\n  C: {}\n';
  assert.deepEqual(errorsOf({ path: 'a.yaml', text: a }, { path: 'b.yaml', text: b }), [
    'a.yaml:2:3: error: rule "A": missing "protocol" (tcp, udp, icmp, icmpv6, vrrp, ospf, all)',
    'a.yaml:2:3: error: rule "A": missing "source": an inbound rule says whom it allows',
    'a.yaml:4:3: error: rule "B": missing "direction" (in or out)',
    'a.yaml:4:3: error: rule "B": missing "dport": a udp rule needs a destination port',
    'b.yaml:2:3: error: rule "C": missing "direction" (in or out)',
    'b.yaml:2:3: error: rule "C": missing "protocol" (tcp, udp, icmp, icmpv6, vrrp, ospf, all)',
  ]);
});

test('source and destination belong to their direction', () => {
  assert.deepEqual(errors(oneRule('direction: out', 'protocol: tcp', 'source: 10.0.0.0/8', 'dport: 22')), [
    'policy.yaml:2:3: error: rule "R": missing "destination": an outbound rule says whom it allows',
    'policy.yaml:5:5: error: rule "R": "source" is for inbound rules: an outbound rule takes "destination"',
  ]);
  assert.deepEqual(errors(oneRule(...IN_TCP, 'destination: 10.0.0.1')), [
    'policy.yaml:7:5: error: rule "R": "destination" is for outbound rules: an inbound rule takes "source"',
  ]);
});

test('ports: tcp/udp need dport, other protocols take none', () => {
  assert.deepEqual(errors(oneRule('direction: in', 'protocol: icmp', 'source: 10.0.0.0/8', 'dport: 22', 'sport: 1')), [
    'policy.yaml:6:5: error: rule "R": "dport" needs protocol tcp or udp, not icmp',
    'policy.yaml:7:5: error: rule "R": "sport" needs protocol tcp or udp, not icmp',
  ]);
  assert.deepEqual(errors(oneRule('direction: in', 'protocol: tcp', 'source: 10.0.0.0/8', 'dport: [80, htps, 9:1]')), [
    'policy.yaml:6:17: error: rule "R": "dport": unknown service "htps" (did you mean "https"?); give the port number instead',
    'policy.yaml:6:23: error: rule "R": "dport": "9:1": the range starts after it ends (did you mean 1:9?)',
  ]);
  assert.deepEqual(errors(oneRule('direction: in', 'protocol: tcp', 'source: 10.0.0.0/8', 'dport: []')), [
    'policy.yaml:6:12: error: rule "R": "dport" is an empty list',
  ]);
});

test('addresses: bad, host bits, prefix', () => {
  const src = (entry: string): string[] => errors(oneRule('direction: in', 'protocol: tcp', 'dport: 22', `source: ${entry}`));
  assert.deepEqual(src('10.0.0.256'), ['policy.yaml:6:13: error: rule "R": "10.0.0.256" is not a valid IP address or network']);
  assert.deepEqual(src('10.0.0.0/33'), ['policy.yaml:6:13: error: rule "R": "10.0.0.0/33": the prefix length must be a number from 0 to 32']);
  assert.deepEqual(src('2001:db8::1/32'), ['policy.yaml:6:13: error: rule "R": 2001:db8::1/32 has host bits set; did you mean 2001:db8::/32?']);
  assert.deepEqual(src('10.1'), ['policy.yaml:6:13: error: rule "R": "10.1" is not a valid IP address or network']);
  assert.deepEqual(src('web_1'), [
    'policy.yaml:6:13: error: rule "R": "web_1" in "source" is not an address, a host name or a query (a query is field:value, as in name:web_1)',
  ]);
  assert.deepEqual(src('[]'), ['policy.yaml:6:13: error: rule "R": "source" is an empty list']);
  assert.deepEqual(src('""'), ['policy.yaml:6:13: error: rule "R": empty entry in "source"']);
  assert.deepEqual(src('[10.0.0.0/8, {a: 1}]'), ['policy.yaml:6:26: error: rule "R": each "source" entry must be an address, a host name or a query string']);
  assert.deepEqual(src(''), ['policy.yaml:6:5: error: rule "R": "source" is empty']);
});

test('query syntax errors point at the column in the file', () => {
  const src = (entry: string): string[] => errors(oneRule('direction: in', 'protocol: tcp', 'dport: 22', 'source:', `  - ${entry}`));
  const [plain] = src('roles:web AND (roles:db');
  assert.match(plain ?? '', /^policy\.yaml:7:23: error: rule "R": invalid query "roles:web AND \(roles:db": /);
  const [quoted] = src('"roles:web AND (roles:db"');
  assert.match(quoted ?? '', /^policy\.yaml:7:24: error: rule "R": invalid query/);
  const [onError] = errors(oneRule('on: roles:web OR', ...IN_TCP));
  assert.match(onError ?? '', /^policy\.yaml:3:\d+: error: rule "R": invalid query "roles:web OR": /);
});

test('on: SAMETAG and empty queries are errors', () => {
  assert.deepEqual(errors(oneRule('on: roles:web AND SAMETAG', ...IN_TCP)), [
    'policy.yaml:3:23: error: rule "R": "on" cannot use SAMETAG: it has no compiled host to share tags with',
  ]);
  assert.deepEqual(errors(oneRule('on: ""', ...IN_TCP)), ['policy.yaml:3:9: error: rule "R": empty query: an empty query matches nothing']);
  assert.deepEqual(errors(oneRule('on:', ...IN_TCP)), ['policy.yaml:3:5: error: rule "R": "on" is empty']);
  assert.deepEqual(errors(oneRule('on: [roles:web]', ...IN_TCP)), ['policy.yaml:3:9: error: rule "R": "on" must be a string']);
});

test('user, interface, env and options are checked', () => {
  assert.deepEqual(errors(oneRule(...IN_TCP, 'user: "bad user"', 'interface: any', 'env: "prod env"', 'options: [disable_env_limt]')), [
    `policy.yaml:7:11: error: rule "R": "user": "bad user" is not a user name: use a letter or '_', then up to 31 letters, digits, '_' or '-'`,
    'policy.yaml:8:16: error: rule "R": "interface": "any" is not an interface name; use "default" or "all" (every interface) or "lan" (the host\'s lan interface)',
    `policy.yaml:9:10: error: rule "R": "env": "prod env" is not an environment name: use 1 to 255 letters, digits, '_', '.' and '-'`,
    'policy.yaml:10:15: error: rule "R": unknown option "disable_env_limt" (options are disable_env_limit, disable_syntax_check) (did you mean "disable_env_limit"?)',
  ]);
  assert.deepEqual(errors(oneRule(...IN_TCP, 'interface: averyveryverylongname0', 'user: 1000')), [
    `policy.yaml:7:16: error: rule "R": "interface": "averyveryverylongname0" is not an interface name: use 1 to 15 letters, digits, '_', '.' and '-', starting with a letter, digit or '_'`,
    'policy.yaml:8:11: error: rule "R": "user" must be a string',
  ]);
});

test('rule names: empty, too long, control characters, duplicates across files', () => {
  const long = 'x'.repeat(201);
  assert.deepEqual(errors(`rules:\n  "": {}\n  "${long}": {}\n  "a\\tb": {}\n`), [
    'policy.yaml:2:3: error: rule "": a rule name must not be empty',
    `policy.yaml:3:3: error: rule "${long}": a rule name must be at most 200 characters (this one has 201)`,
    'policy.yaml:4:3: error: rule "a\tb": a rule name must not contain line breaks or control characters',
  ]);
  const rule = oneRule(...IN_TCP);
  assert.deepEqual(errorsOf({ path: 'a.yaml', text: rule }, { path: 'b.yaml', text: rule.replace('rules:', 'raw:\n  X: { nft: "add rule inet palisade input accept" }\nrules:') }), [
    'b.yaml:4:3: error: rule "R": rule name used twice: also at a.yaml:2:3',
  ]);
  assert.deepEqual(errors('rules:\n  R: {}\nraw:\n  R: { nft: "add rule inet palisade input accept" }\n').slice(-1), [
    'policy.yaml:4:3: error: rule "R": rule name used twice: also at policy.yaml:2:3',
  ]);
  assert.ok(errors(`rules:\n  R: { direction: in, direction: out }\n`).includes('policy.yaml:2:23: error: rule "R": duplicate key "direction" (first at line 2)'));
});

test('top level, settings and failsafe are validated', () => {
  assert.deepEqual(errors('rule:\n  R: {}\n'), ['policy.yaml:1:1: error: unknown top-level key "rule" (did you mean "rules"?)']);
  assert.deepEqual(errors('- a\n'), ['policy.yaml:1:1: error: a policy file must be a mapping']);
  assert.deepEqual(errors('settings:\n  input_dorp: true\n  output_drop: yes\n'), [
    'policy.yaml:2:3: error: unknown setting "input_dorp" (did you mean "input_drop"?)',
    'policy.yaml:3:16: error: "output_drop" must be true or false',
  ]);
  assert.deepEqual(errors('settings:\n  failsafe:\n    inn: []\n    out: { protocol: udp }\n'), [
    'policy.yaml:3:5: error: unknown key in failsafe "inn" (did you mean "in"?)',
    'policy.yaml:4:10: error: failsafe.out must be a list of entries such as { protocol: tcp, dport: 22 }',
  ]);
  const failsafe = (entry: string): string[] => errors(`settings:\n  failsafe:\n    in:\n      - ${entry}\n`);
  assert.deepEqual(failsafe('{ protocol: tcp, dport: 22, source: roles:admin }'), [
    'policy.yaml:4:45: error: failsafe source: "roles:admin" is not an address; the failsafe takes addresses only, so that it never depends on the inventory',
  ]);
  assert.deepEqual(failsafe('{ protocol: tcp, dport: 22, source: [10.0.0.1, bastion.example.net] }'), [
    'policy.yaml:4:56: error: failsafe source: "bastion.example.net" is not an address; the failsafe takes addresses only, so that it never depends on the inventory',
  ]);
  assert.deepEqual(failsafe('{ protocol: tcp, dport: 22, destination: 10.0.0.1 }'), [
    'policy.yaml:4:37: error: unknown key in a failsafe.in entry "destination"',
  ]);
  assert.deepEqual(failsafe('{ protocol: tcp }'), ['policy.yaml:4:9: error: a tcp failsafe entry needs "dport"']);
  assert.deepEqual(failsafe('{ dport: 22 }'), ['policy.yaml:4:9: error: a failsafe entry needs "protocol" (tcp, udp, icmp, icmpv6, vrrp, ospf, all)']);
  assert.deepEqual(failsafe('{ protocol: icmp, dport: 22 }'), ['policy.yaml:4:27: error: "dport" needs protocol tcp or udp, not icmp']);
  assert.deepEqual(failsafe('{ protocol: tcp, dport: 22, source: 10.0.0.1/8 }'), [
    'policy.yaml:4:45: error: failsafe source: 10.0.0.1/8 has host bits set; did you mean 10.0.0.0/8?',
  ]);
});

test('settings may appear in one file only', () => {
  assert.deepEqual(errorsOf({ path: 'a.yaml', text: 'settings: { input_drop: true }\n' }, { path: 'b.yaml', text: 'rules: {}\nsettings: {}\n' }), [
    'b.yaml:2:1: error: "settings" is already given at a.yaml:1:1: give settings in one file only',
  ]);
});

test('YAML syntax errors are reported with their position', () => {
  const [syntax] = errors('rules:\n  R: [\n');
  assert.match(syntax ?? '', /^policy\.yaml:\d+:\d+: error: invalid syntax: /);
});

test('raw rules: forms, chains, tables and required parts', () => {
  const raw = (body: string): string[] => errors(`raw:\n  X:\n    ${body}\n`);
  assert.deepEqual(raw('on: roles:x'), ['policy.yaml:2:3: error: rule "X": a raw rule needs "nft", "iptables" or both']);
  assert.deepEqual(raw('nft: "add rule inet filter input accept"'), [
    'policy.yaml:3:10: error: rule "X": "nft" must be "add rule inet palisade <input|output|forward|nat_prerouting|...> <rule>": raw rules go into palisade\'s own table only',
  ]);
  assert.deepEqual(raw('nft: "add rule inet palisade inptu accept"'), [
    'policy.yaml:3:10: error: rule "X": "nft": chain "inptu" is not one of input, output, forward, nat_prerouting, nat_input, nat_output, nat_postrouting, mangle_prerouting, mangle_input, mangle_forward, mangle_output, mangle_postrouting, raw_prerouting, raw_output (did you mean "input"?)',
  ]);
  assert.deepEqual(raw('nft: "add rule inet palisade raw_input notrack"'), [
    'policy.yaml:3:10: error: rule "X": "nft": chain "raw_input" is not one of input, output, forward, nat_prerouting, nat_input, nat_output, nat_postrouting, mangle_prerouting, mangle_input, mangle_forward, mangle_output, mangle_postrouting, raw_prerouting, raw_output (did you mean "nat_input"?)',
  ]);
  assert.deepEqual(raw('nft: "add rule inet palisade input"'), ['policy.yaml:3:10: error: rule "X": "nft": the rule after "input" is missing']);
  assert.deepEqual(raw('iptables: { rule: "-A PREROUTING -j ACCEPT" }'), [
    'policy.yaml:3:23: error: rule "X": "rule": in table filter the chain must be one of its built-in chains INPUT, OUTPUT, FORWARD, not "PREROUTING": raw rules never go into other tools\' chains',
  ]);
  /* Finding 7: a raw rule never hooks another tool's chain, and raw has no INPUT: refused by check, not at load. */
  assert.deepEqual(raw('iptables: { table: nat, rule: "-A DOCKER -j RETURN" }'), [
    'policy.yaml:3:35: error: rule "X": "rule": in table nat the chain must be one of its built-in chains PREROUTING, INPUT, OUTPUT, POSTROUTING, not "DOCKER": raw rules never go into other tools\' chains',
  ]);
  assert.deepEqual(raw('iptables: { table: raw, rule: "-A INPUT -j NOTRACK" }'), [
    'policy.yaml:3:35: error: rule "X": "rule": in table raw the chain must be one of its built-in chains PREROUTING, OUTPUT, not "INPUT": raw rules never go into other tools\' chains',
  ]);
  assert.deepEqual(raw('iptables: { table: natt, rule: "-X INPUT -j ACCEPT" }'), [
    'policy.yaml:3:24: error: rule "X": "table" must be one of filter, nat, mangle, raw, not "natt" (did you mean "nat"?)',
    'policy.yaml:3:36: error: rule "X": "rule" must be "-A <CHAIN> <rule>" or "-I <CHAIN> <rule>"',
  ]);
  assert.deepEqual(raw('iptables: { table: nat, rule: "-A THIS_CHAIN_NAME_IS_MUCH_TOO_LONG_X -j ACCEPT" }'), [
    'policy.yaml:3:35: error: rule "X": "rule": "THIS_CHAIN_NAME_IS_MUCH_TOO_LONG_X" is not a chain name (up to 28 letters, digits, "_", "-")',
  ]);
  assert.deepEqual(raw('iptables: { table: filter }'), [
    'policy.yaml:3:15: error: rule "X": missing "rule": the iptables rule, as in "-A INPUT -p tcp --dport 80 -j ACCEPT"',
  ]);
  assert.deepEqual(raw('iptables: { tabel: nat, rule: "-A INPUT -j ACCEPT" }'), [
    'policy.yaml:3:17: error: rule "X": unknown key in "iptables" "tabel" (did you mean "table"?)',
  ]);
  assert.deepEqual(raw('{ nft: "add rule inet palisade input accept", on: "SAMETAG", envv: x }'), [
    'policy.yaml:3:56: error: rule "X": "on" cannot use SAMETAG: it has no compiled host to share tags with',
    'policy.yaml:3:66: error: rule "X": unknown field "envv" (did you mean "env"?)',
  ]);
});

test('raw rules: injection into the nft script or restore file is refused', () => {
  const raw = (body: string): string[] => errors(`raw:\n  X:\n    ${body}\n`);
  assert.deepEqual(raw('nft: "add rule inet palisade input accept; flush ruleset"'), [
    'policy.yaml:3:46: error: rule "X": "nft" contains ";": it would end this command and start another in the nft script',
  ]);
  assert.deepEqual(raw('nft: "add rule inet palisade input accept\\nflush ruleset"'), [
    'policy.yaml:3:46: error: rule "X": "nft" contains a line break: it would start another command in the nft script or the restore file',
  ]);
  assert.deepEqual(raw('nft: "add rule inet palisade input accept # comment"'), [
    'policy.yaml:3:47: error: rule "X": "nft" contains "#": it would turn the rest of the line into a comment in the nft script or the restore file',
  ]);
  assert.deepEqual(raw('iptables: { rule: "-A INPUT -j ACCEPT\\r\\nCOMMIT" }'), [
    'policy.yaml:3:42: error: rule "X": "rule" contains a line break: it would start another command in the nft script or the restore file',
  ]);
  assert.deepEqual(raw('iptables: { rule: "-A INPUT -j ACCEPT\\u0007" }'), [
    'policy.yaml:3:42: error: rule "X": "rule" contains the control character U+0007, which has no place in a rule',
  ]);
  assert.deepEqual(raw('iptables: { rule: "-A INPUT -j ACCEPT; iptables -F" }'), [
    'policy.yaml:3:42: error: rule "X": "rule" contains ";": it would end this command and start another in the nft script',
  ]);
});

test('loadPolicy: files and directories (sorted, .yaml/.yml/.json only), unreadable paths', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'palisade-policy-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'roles'));
  await writeFile(join(dir, 'policy.yaml'), oneRule(...IN_TCP));
  await writeFile(join(dir, 'roles', 'b.yml'), 'rules:\n  B: { direction: in, protocol: icmp, source: 10.0.0.1 }\n');
  await writeFile(join(dir, 'roles', 'a.json'), '{ "name": "web", "default_attributes": { "afw": { "rules": { "A": { "direction": "in", "protocol": "udp", "source": "10.0.0.2", "dport": "53" } } } } }');
  await writeFile(join(dir, 'roles', 'notes.txt'), 'not a policy');
  const { policy } = await loadPolicy([join(dir, 'policy.yaml'), join(dir, 'roles')]);
  assert.deepEqual(policy.rules.map((r) => r.name), ['R', 'A', 'B']);
  assert.deepEqual(policy.files, [join(dir, 'policy.yaml'), join(dir, 'roles', 'a.json'), join(dir, 'roles', 'b.yml')]);
  assert.equal(policy.rules[1]?.onText, 'roles:web');

  const missing = join(dir, 'missing.yaml');
  await assert.rejects(loadPolicy([missing]), (e: unknown) => {
    assert.ok(e instanceof InputError);
    assert.equal(e.diagnostics[0]?.file, missing);
    assert.match(e.message, /cannot read the policy: .*ENOENT/);
    return true;
  });
  await mkdir(join(dir, 'empty'));
  const empty = await loadPolicy([join(dir, 'empty')]);
  assert.deepEqual(empty.diagnostics.map((d) => d.message), ['no .yaml, .yml or .json policy files in this directory']);
});

test('a policy nested thousands deep is an error at its position, said as nesting (not a stack overflow)', () => {
  const text = `rules:\n  r:\n    direction: in\n    from: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`;
  assert.throws(
    () => parsePolicyFiles([{ path: 'deep.yaml', text }]),
    (e: unknown) => e instanceof InputError && e.diagnostics.length === 1 && /^deep\.yaml:4:\d+: error: invalid syntax: nested too deeply to read/.test(formatDiagnostic(e.diagnostics[0]!)),
  );
});
