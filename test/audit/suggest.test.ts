/**
 * impact and suggest on the audit fleet (fixtures/fleet-*.yaml): cut flows grouped by roles and port;
 * suggestions that parse as a policy, make impact clean once merged, and open no pair that was not
 * observed (explain on every other pair of the fleet is unchanged).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FleetCompiler } from '../../src/compile/compile.ts';
import { enforcedPolicy } from '../../src/audit/enforced.ts';
import type { Flow } from '../../src/audit/flow.ts';
import { analyseImpact } from '../../src/audit/impact.ts';
import { formatSuggestions, suggestRules } from '../../src/audit/suggest.ts';
import { explainFlow } from '../../src/explain/flow.ts';
import { parseInventoryDocument } from '../../src/inventory/document.ts';
import { parsePolicyFiles } from '../../src/policy/load.ts';
import type { Policy } from '../../src/policy/types.ts';
import { runCli } from '../helpers/cli.ts';

const fixturePath = (name: string): string => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));
const POLICY = readFileSync(fixturePath('fleet-policy.yaml'), 'utf8');
const inventory = parseInventoryDocument(readFileSync(fixturePath('fleet-inventory.yaml'), 'utf8'), 'inventory.yaml');
const hosts = inventory.hosts;
const address = (name: string): string => hosts.find((h) => h.name === name)?.addresses.v4[0] as string;

const policyOf = (...texts: string[]): Policy => parsePolicyFiles(texts.map((text, i) => ({ path: `p${i}.yaml`, text }))).policy;
const compilerOf = (policy: Policy): FleetCompiler => new FleetCompiler({ policy: enforcedPolicy(policy), inventory, names: new Map() });

function flow(src: string, dst: string, port: number, over: Partial<Flow> = {}): Flow {
  return { source: address(src), destination: address(dst), protocol: 'tcp', port, uid: null, verdict: 'audit', prefixes: ['AUDIT_PAL_INPUT'], count: 2, packets: 2, firstSeen: '2026-01-01T00:00:00.000Z', lastSeen: '2026-01-02T00:00:00.000Z', ...over };
}

/** Monitoring scrapes every other host, backup pulls from both databases, web-1 uses its own database. */
const OBSERVED: Flow[] = [
  ...['web-1', 'web-2', 'db-1', 'db-2', 'backup-1'].map((h) => flow('mon-1', h, 9100)),
  flow('backup-1', 'db-1', 873),
  flow('backup-1', 'db-2', 873),
  flow('web-1', 'db-1', 5432),
];

/** Every (source, destination, port) of the fleet on the given ports, for the "nothing more" checks. */
function allPairs(ports: number[]): Array<[string, string, number]> {
  return hosts.flatMap((s) => hosts.filter((d) => d !== s).flatMap((d) => ports.map((p): [string, string, number] => [s.name, d.name, p])));
}

const allowed = (compiler: FleetCompiler, [s, d, port]: [string, string, number]): boolean =>
  explainFlow(compiler, hosts, { source: s, destination: d, protocol: 'tcp', port, sourcePort: null, user: null, family: 4 }).allowed;

test('impact: the forgotten flows, grouped by (source roles, destination roles, port), judged as enforced', () => {
  const report = analyseImpact(compilerOf(policyOf(POLICY)), hosts, OBSERVED);
  assert.equal(report.cut.length, 7);
  assert.deepEqual(
    report.groups.map((g) => [g.source, g.destination, `${g.protocol}/${g.port}`, g.flows, g.records, g.sources.join(','), g.destinations.join(',')]),
    [
      ['roles:backup', 'roles:db', 'tcp/873', 2, 4, 'backup-1', 'db-1,db-2'],
      ['roles:monitoring', 'roles:db', 'tcp/9100', 2, 4, 'mon-1', 'db-1,db-2'],
      ['roles:monitoring', 'roles:web', 'tcp/9100', 2, 4, 'mon-1', 'web-1,web-2'],
      ['roles:monitoring', 'roles:backup', 'tcp/9100', 1, 2, 'mon-1', 'backup-1'],
    ],
  );
  assert.deepEqual(report.groups[0]?.droppedBy, ['dropped in on db-1: the default policy (input_drop: true)', 'dropped in on db-2: the default policy (input_drop: true)']);
});

test('impact: addresses outside the inventory are matched as plain IPs; flows with no inventory end are skipped', () => {
  const outside = { ...flow('mon-1', 'db-1', 9100), source: '192.0.2.7' };
  const report = analyseImpact(compilerOf(policyOf(POLICY)), hosts, [outside, { ...outside, destination: '192.0.2.8' }, { ...flow('web-1', 'web-2', 80), source: '192.0.2.7' }]);
  assert.deepEqual(report.groups.map((g) => [g.source, g.destination]), [['192.0.2.7', 'roles:db']]);
  assert.equal(report.skipped.length, 1);
});

test('suggest: role-level rules where the observed hosts cover the role; the output is a valid policy; merged, impact is clean', () => {
  const policy = policyOf(POLICY);
  const rules = suggestRules(compilerOf(policy), hosts, policy, OBSERVED);
  assert.deepEqual(
    rules.map((r) => [r.on, r.direction, r.peers.join(' | '), r.port]),
    [
      ['roles:db', 'in', 'roles:backup', 873],
      ['roles:backup', 'in', 'roles:monitoring', 9100],
      ['roles:db', 'in', 'roles:monitoring', 9100],
      ['roles:web', 'in', 'roles:monitoring', 9100],
    ],
  );
  const text = formatSuggestions(rules, ['observed.json']);
  assert.match(text, /# evidence: 2 flow\(s\), 4 record\(s\), seen 2026-01-01T00:00:00.000Z to 2026-01-02T00:00:00.000Z: backup-1 -> db-1; backup-1 -> db-2\n  "Observed tcp\/873 from roles:backup on roles:db":\n    on: "roles:db"\n    direction: in\n    protocol: tcp\n    source:\n      - "roles:backup"\n    dport: 873\n/);
  const merged = policyOf(POLICY, text);
  assert.equal(parsePolicyFiles([{ path: 'suggested.yaml', text }]).policy.rules.length, 4);
  assert.equal(analyseImpact(compilerOf(merged), hosts, OBSERVED).cut.length, 0);
  const before = compilerOf(policy);
  const after = compilerOf(merged);
  const observed = new Set(OBSERVED.map((f) => `${f.source}|${f.destination}|${f.port}`));
  const widened = allPairs([873, 9100, 5432]).filter((p) => !observed.has(`${address(p[0])}|${address(p[1])}|${p[2]}`) && allowed(after, p) !== allowed(before, p));
  assert.deepEqual(widened, [], 'no pair that was not observed is opened');
});

test('suggest: SAMETAG when the observed pairs share tags; role and tag when a role is only partly observed', () => {
  const policy = policyOf('settings: { input_drop: true }\nrules: {}\n');
  const pairs = [flow('web-1', 'db-1', 6379), flow('web-2', 'db-2', 6379)];
  const both = suggestRules(compilerOf(policy), hosts, policy, pairs);
  assert.deepEqual(both.map((r) => [r.on, r.peers.join(' | ')]), [['roles:db', 'roles:web AND SAMETAG']]);
  const one = suggestRules(compilerOf(policy), hosts, policy, [flow('web-1', 'db-1', 6379), flow('mon-1', 'web-1', 9100), flow('mon-1', 'web-2', 9101)]);
  assert.deepEqual(one.map((r) => [r.on, r.peers.join(' | '), r.port]), [
    ['roles:db AND tags:shop', 'roles:web AND SAMETAG', 6379],
    ['roles:web AND tags:shop', 'roles:monitoring', 9100],
    ['roles:web AND tags:blog', 'roles:monitoring', 9101],
  ]);
  const merged = compilerOf(policyOf('settings: { input_drop: true }\nrules: {}\n', formatSuggestions(one, ['f'])));
  assert.equal(allowed(merged, ['web-1', 'db-1', 6379]), true);
  for (const pair of [['web-2', 'db-2', 6379], ['web-2', 'db-1', 6379], ['mon-1', 'web-2', 9100], ['db-1', 'web-1', 9100]] as Array<[string, string, number]>) {
    assert.equal(allowed(merged, pair), false, pair.join(' '));
  }
});

test('suggest: an outbound rule with the socket user when a user chain drops; outside addresses as addresses', () => {
  const policy = policyOf(`settings: { input_drop: false, output_drop: true }
rules:
  Prometheus to the web:
    on: roles:monitoring
    direction: out
    protocol: tcp
    user: prometheus
    destination: roles:web
    dport: 9100
`);
  const flows = [...['db-1', 'db-2'].map((h) => flow('mon-1', h, 9100, { uid: 4310 })), { ...flow('mon-1', 'db-1', 443, { uid: 4310 }), destination: '198.51.100.9' }];
  const rules = suggestRules(compilerOf(policy), hosts, policy, flows);
  assert.deepEqual(rules.map((r) => [r.on, r.direction, r.user, r.peers.join(' | '), r.port]), [
    ['roles:monitoring', 'out', 'prometheus', '198.51.100.9', 443],
    ['roles:monitoring', 'out', 'prometheus', 'roles:db', 9100],
  ]);
  const after = policyOf(`settings: { input_drop: false, output_drop: true }\nrules:\n  Prometheus to the web:\n    on: roles:monitoring\n    direction: out\n    protocol: tcp\n    user: prometheus\n    destination: roles:web\n    dport: 9100\n`, formatSuggestions(rules, ['f']));
  assert.equal(analyseImpact(compilerOf(after), hosts, flows).cut.length, 0);
});

test('palisade impact and suggest: exit 3 when cut, 0 when the suggestions are added', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pal-suggest-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(`${dir}/flows.json`, JSON.stringify({ flows: OBSERVED }));
  const common = ['--inventory', fixturePath('fleet-inventory.yaml'), '--flows', `${dir}/flows.json`, '--no-resolve'];
  const impact = await runCli(['impact', '--policy', fixturePath('fleet-policy.yaml'), ...common]);
  assert.equal(impact.code, 3, impact.stderr);
  assert.match(impact.stdout, /^7 of 8 flow\(s\) would be cut, in 4 group\(s\):\n  roles:backup -> roles:db tcp\/873: 2 flow\(s\), 4 record\(s\), 3 host\(s\) \(backup-1 -> db-1, db-2\)\n    dropped in on db-1: the default policy/);
  const suggest = await runCli(['suggest', '--policy', fixturePath('fleet-policy.yaml'), ...common, '--out', `${dir}/suggested.yaml`]);
  assert.equal(suggest.code, 0, suggest.stderr);
  assert.equal((await runCli(['check', '--policy', fixturePath('fleet-policy.yaml'), `${dir}/suggested.yaml`, '--inventory', fixturePath('fleet-inventory.yaml'), '--no-resolve'])).code, 0);
  const clean = await runCli(['impact', '--policy', fixturePath('fleet-policy.yaml'), `${dir}/suggested.yaml`, ...common, '--format', 'json']);
  assert.equal(clean.code, 0, clean.stdout);
  assert.equal((JSON.parse(clean.stdout) as { clean: boolean }).clean, true);
});

test('a flow of unknown user passes the source when one of its users may send it; suggest adds no outbound rule', () => {
  const outbound = `${POLICY.replace('output_drop: false', 'output_drop: true')}
  Prometheus scrapes:
    on: roles:monitoring
    direction: out
    protocol: tcp
    user: prometheus
    destination: "*:*"
    dport: 9100
`;
  const policy = policyOf(outbound);
  const report = analyseImpact(compilerOf(policy), hosts, [flow('mon-1', 'web-1', 9100)]);
  assert.equal(report.cut.length, 1);
  assert.deepEqual(report.groups[0]?.droppedBy, ['dropped in on web-1: the default policy (input_drop: true)']);
  const rules = suggestRules(compilerOf(policy), hosts, policy, [flow('mon-1', 'web-1', 9100)]);
  assert.deepEqual(rules.map((r) => r.direction), ['in']);
  const cutAsRoot = analyseImpact(compilerOf(policy), hosts, [flow('backup-1', 'web-1', 9100)]);
  assert.ok(cutAsRoot.groups[0]?.droppedBy.some((d) => d.startsWith('dropped out on backup-1')), 'no user of backup-1 may send it');
});

test('impact says rejected where the side answers (reject rule, default_action: reject), dropped where it stays silent', () => {
  const rejecting = policyOf(`${POLICY}\n`.replace(/^settings:\n/m, 'settings:\n  default_action: reject\n'), 'rules:\n  No rsync from backup:\n    on: roles:db\n    action: drop\n    order: 10\n    direction: in\n    protocol: tcp\n    source: roles:backup\n    dport: 873\n');
  const report = analyseImpact(compilerOf(rejecting), hosts, OBSERVED);
  const byPort = (port: number): string[] => report.groups.filter((g) => g.port === port).flatMap((g) => g.droppedBy);
  assert.ok(byPort(9100).length > 0 && byPort(9100).every((d) => d.startsWith('rejected in on ')), byPort(9100).join('; '));
  assert.deepEqual(byPort(873), ['dropped in on db-1: rule "No rsync from backup"', 'dropped in on db-2: rule "No rsync from backup"']);
});

test('suggest: role × environment when a role spans environments; no any-user outbound rule for a flow without uid', () => {
  const inv = parseInventoryDocument(`hosts:
  - { name: db-p1, environment: production, roles: [db], interfaces: { eth0: [10.79.0.21] }, users: { root: 0 } }
  - { name: db-p2, environment: production, roles: [db], interfaces: { eth0: [10.79.0.22] }, users: { root: 0 } }
  - { name: db-s1, environment: staging, roles: [db], interfaces: { eth0: [10.79.1.21] }, users: { root: 0 } }
  - { name: api-p1, environment: production, roles: [api], interfaces: { eth0: [10.79.0.31] }, users: { root: 0, app: 4200 } }
  - { name: api-s1, environment: staging, roles: [api], interfaces: { eth0: [10.79.1.31] }, users: { root: 0, app: 4200 } }
`, 'inv.yaml');
  const at = (name: string): string => inv.hosts.find((h) => h.name === name)?.addresses.v4[0] as string;
  const f = (src: string, dst: string, port: number, uid: number | null): Flow => ({ ...flow('web-1', 'db-1', port), source: at(src), destination: at(dst), uid });
  const policy = policyOf(`settings: { input_drop: true, output_drop: true }
rules:
  App to the world:
    on: roles:api
    direction: out
    protocol: tcp
    user: app
    destination: 192.0.2.0/24
    dport: 443
`);
  const compiler = new FleetCompiler({ policy: enforcedPolicy(policy), inventory: inv, names: new Map() });
  const rules = suggestRules(compiler, inv.hosts, policy, [f('api-p1', 'db-p1', 5432, null), f('api-p1', 'db-p2', 5432, null)]);
  assert.deepEqual(rules.map((r) => [r.direction, r.on, r.peers.join(' | '), r.user]), [['in', 'roles:db AND environment:production', 'roles:api', null]]);
  const withUid = suggestRules(compiler, inv.hosts, policy, [f('api-p1', 'db-p1', 5432, 4200)]);
  assert.deepEqual(withUid.filter((r) => r.direction === 'out').map((r) => [r.on, r.user]), [['roles:api AND environment:production', 'app']]);
  const merged = new FleetCompiler({ policy: enforcedPolicy(policyOf(`settings: { input_drop: true, output_drop: false }\nrules: {}\n`, formatSuggestions(rules, ['f']))), inventory: inv, names: new Map() });
  const ok = (s: string, d: string): boolean => explainFlow(merged, inv.hosts, { source: s, destination: d, protocol: 'tcp', port: 5432, sourcePort: null, user: null, family: 4 }).allowed;
  assert.equal(ok('api-p1', 'db-p1'), true);
  assert.equal(ok('api-p1', 'db-p2'), true);
  for (const [s, d] of [['api-s1', 'db-s1'], ['api-p1', 'db-s1'], ['api-s1', 'db-p1'], ['db-p2', 'db-p1']]) assert.equal(ok(s as string, d as string), false, `${s} -> ${d}`);
});
