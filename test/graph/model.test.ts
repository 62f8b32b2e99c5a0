import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aggregateGraph, buildRoleGraph, filterGraph, roleKey } from '../../src/graph/model.ts';
import { FleetCompiler } from '../../src/compile/compile.ts';
import { CONSOLE_ENVIRONMENTS, consoleInventory, consolePolicy } from '../../bench/console-fleet.ts';
import type { RoleGraph } from '../../src/graph/types.ts';
import { layoutGraph } from '../../src/graph/layout.ts';
import { dotString, escapeXml, renderDot, renderSvg } from '../../src/graph/render.ts';
import { compilerFor, SMALL_INVENTORY } from '../helpers/compiler.ts';
import { parsePolicyFiles } from '../../src/policy/load.ts';
import { parseInventoryDocument } from '../../src/inventory/document.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const POLICY = `
settings: { input_drop: true, output_drop: true }
rules:
  Web to db of its tag:
    on: roles:web
    direction: out
    protocol: tcp
    user: www-data
    destination: roles:mongodb AND SAMETAG
    dport: 27017
  Db from web:
    on: roles:mongodb
    direction: in
    protocol: tcp
    source: roles:web
    dport: 27017
  Scrapes:
    on: roles:web
    direction: in
    protocol: tcp
    source: roles:monitoring
    dport: 9100
    options: [disable_env_limit]
  Public web:
    on: roles:web
    env: production
    direction: in
    protocol: tcp
    source: [0.0.0.0/0]
    dport: [80, "8000:8010"]
  No telnet:
    on: roles:mongodb
    direction: in
    action: drop
    protocol: tcp
    source: roles:web
    dport: 23
  Logged:
    on: roles:web
    direction: in
    action: log
    protocol: tcp
    source: roles:monitoring
`;

function graphOf(policy = POLICY, inventory = SMALL_INVENTORY, expand: string[] = []): RoleGraph {
  const compiler = compilerFor(policy, inventory);
  return buildRoleGraph(compiler, parsePolicyFiles([{ path: 'policy.yaml', text: policy }]).policy, parseInventoryDocument(inventory, 'inventory.yaml'), {
    expand: new Set(expand),
  });
}

/** `from -> to: services` with node labels qualified by environment. */
function edgesOf(graph: RoleGraph): string[] {
  const label = (id: string): string => {
    const n = graph.nodes.find((x) => x.id === id);
    return n === undefined ? id : n.environment === null ? n.label : `${n.environment}/${n.label}`;
  };
  return graph.edges.map((e) => `${label(e.from)} -> ${label(e.to)}: ${e.services.join('; ')} (${e.verdict})`).sort();
}

test('nodes are roles per environment with their hosts; networks are nodes of their own', () => {
  const g = graphOf();
  assert.deepEqual(g.environments, ['production', 'staging']);
  assert.deepEqual(
    g.nodes.map((n) => `${n.kind} ${n.environment ?? '-'} ${n.label} [${n.hosts.join(',')}]`),
    ['role production mongodb [db-1]', 'role production monitoring [mon-1]', 'role production web [web-1,web-2]', 'role staging web [web-s]', 'network - 0.0.0.0/0 []'],
  );
  assert.equal(g.hostCount, 5);
});

test('edges follow the rules as the compiler scopes them: environment, SAMETAG, disable_env_limit; log rules are no edge', () => {
  assert.deepEqual(edgesOf(graphOf()), [
    '0.0.0.0/0 -> production/web: tcp 80, 8000-8010 (accept)',
    'production/monitoring -> production/web: tcp 9100 (accept)',
    /* disable_env_limit: staging's web is scraped from production. */
    'production/monitoring -> staging/web: tcp 9100 (accept)',
    'production/web -> production/mongodb: tcp 27017; tcp 23 (mixed)',
  ]);
});

test('an edge lists every rule with its direction, position and peers', () => {
  const g = graphOf();
  const edge = g.edges.find((e) => e.verdict === 'mixed');
  assert.ok(edge);
  assert.deepEqual(
    edge.permissions.map((p) => `${p.rule} ${p.direction} ${p.action} ${p.protocol} ${p.ports} ${p.user} ${p.file}:${p.line} [${p.peers}]`),
    [
      'Web to db of its tag out accept tcp 27017 www-data policy.yaml:4 [roles:mongodb AND SAMETAG]',
      'Db from web in accept tcp 27017 null policy.yaml:11 [roles:web]',
      'No telnet in drop tcp 23 null policy.yaml:31 [roles:web]',
    ],
  );
});

test('SAMETAG selects per carrier: a web host without the db tag gets no edge', () => {
  const inventory = `
hosts:
  - { name: w1, environment: prod, roles: [web], tags: [a], interfaces: { eth0: [10.0.0.1] }, users: { www-data: 33 } }
  - { name: w2, environment: prod, roles: [web], tags: [b], interfaces: { eth0: [10.0.0.2] }, users: { www-data: 33 } }
  - { name: d1, environment: prod, roles: [mongodb], tags: [a], interfaces: { eth0: [10.0.0.3] } }
`;
  const policy = `
rules:
  Db:
    on: roles:web
    direction: out
    user: www-data
    protocol: tcp
    destination: roles:mongodb AND SAMETAG
    dport: 27017
`;
  const g = graphOf(policy, inventory, [roleKey('prod', 'web')]);
  assert.deepEqual(edgesOf(g), ['prod/w1 -> prod/mongodb: tcp 27017 (accept)']);
  assert.deepEqual(g.nodes.filter((n) => n.kind === 'host').map((n) => n.label), ['w1', 'w2']);
});

test('a rule whose user a host lacks gives that host no edge, as the compiler skips it', () => {
  const inventory = `
hosts:
  - { name: w1, environment: prod, roles: [web], interfaces: { eth0: [10.0.0.1] }, users: { root: 0 } }
  - { name: d1, environment: prod, roles: [db], interfaces: { eth0: [10.0.0.3] } }
`;
  const policy = `
rules:
  Db:
    on: roles:web
    direction: out
    user: www-data
    protocol: tcp
    destination: roles:db
    dport: 5432
`;
  assert.deepEqual(graphOf(policy, inventory).edges, []);
});

test('filters: environment keeps its networks; port keeps the rules letting it through; search keeps neighbours', () => {
  const g = graphOf();
  assert.deepEqual(edgesOf(filterGraph(g, { environment: 'staging' })), []);
  assert.deepEqual(filterGraph(g, { environment: 'staging' }).nodes.map((n) => n.label), ['web']);
  assert.deepEqual(edgesOf(filterGraph(g, { port: { protocol: 'tcp', port: 8005 } })), ['0.0.0.0/0 -> production/web: tcp 80, 8000-8010 (accept)']);
  assert.deepEqual(edgesOf(filterGraph(g, { port: { protocol: 'tcp', port: 23 } })), ['production/web -> production/mongodb: tcp 23 (deny)']);
  assert.deepEqual(edgesOf(filterGraph(g, { search: 'MON-1' })), [
    'production/monitoring -> production/web: tcp 9100 (accept)',
    'production/monitoring -> staging/web: tcp 9100 (accept)',
  ]);
});

test('layout: every node and edge placed, environments side by side, no overlap', () => {
  const g = graphOf();
  const layout = layoutGraph(g);
  for (const n of g.nodes) assert.ok(layout.nodes[n.id], n.label);
  for (const e of g.edges) assert.match(layout.edges[e.id]?.path ?? '', /^M -?\d+ -?\d+ C /);
  const boxes = Object.values(layout.nodes);
  for (const [i, a] of boxes.entries()) {
    for (const b of boxes.slice(i + 1)) assert.ok(a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y, 'boxes overlap');
  }
  assert.deepEqual(layout.groups.map((gr) => gr.label), ['from outside', 'production', 'staging']);
});

const HOSTILE = `
hosts:
  - { name: "evil-1", environment: prod, roles: ["x\\"];alert(2)//<img src=x onerror=alert(3)>", "</text><script>alert(1)</script>"], interfaces: { eth0: [10.0.0.1] } }
  - { name: d1, environment: prod, roles: [db], interfaces: { eth0: [10.0.0.3] } }
`;
const HOSTILE_POLICY = `
rules:
  "</title><script>alert(4)</script> \\"quoted\\" -> n0":
    on: roles:db
    direction: in
    protocol: tcp
    source: "roles:*"
    dport: 5432
`;

test('hostile names are escaped in SVG and DOT', () => {
  const g = graphOf(HOSTILE_POLICY, HOSTILE);
  const svg = renderSvg(g);
  assert.doesNotMatch(svg, /<script|<img/);
  assert.match(svg, /&#60;script&#62;alert\(1\)/);
  const dot = renderDot(g);
  assert.doesNotMatch(dot, /[^\\]"];alert/);
  assert.equal(dotString('a"b\\c\nd\u0007'), '"a\\"b\\\\c\\nd"');
  assert.equal(escapeXml('a\u0000<b>&"\''), 'a\ufffd&#60;b&#62;&#38;&#34;&#39;');
});

test('palisade graph on the bundled example: svg, dot and json of the same map; bad filters are usage errors', async () => {
  const json = await runCli(['graph', '--format', 'json']);
  assert.equal(json.code, 0, json.stderr);
  const g = JSON.parse(json.stdout) as RoleGraph;
  const roles = g.nodes.filter((n) => n.kind === 'role' && n.environment === 'production').map((n) => n.label);
  assert.deepEqual(roles, ['api', 'backup', 'bastion', 'loadbalancer', 'mongodb', 'monitoring', 'rabbitmq', 'webserver']);
  assert.ok(edgesOf(g).includes('production/loadbalancer -> production/webserver: tcp 80 (accept)'));
  const svg = await runCli(['graph']);
  assert.match(svg.stdout, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal((svg.stdout.match(/<path class="edge /g) ?? []).length, g.edges.length);
  const dot = await runCli(['graph', '--format', 'dot', '--environment', 'staging']);
  assert.match(dot.stdout, /^digraph palisade \{/);
  assert.doesNotMatch(dot.stdout, /production/);
  assert.equal((await runCli(['graph', '--port', 'nope'])).code, 2);
  const unknown = await runCli(['graph', '--expand', 'nope']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no role "nope"/);
});

test('a map of 2,000 hosts in 200 roles folds each environment into one node, its edges merged with counts; filters and opened environments show roles', () => {
  const inventory = consoleInventory(2000);
  const policy = consolePolicy(400);
  const policyModel = parsePolicyFiles([{ path: 'policy.yaml', text: JSON.stringify(policy) }]).policy;
  const inventoryModel = parseInventoryDocument(JSON.stringify(inventory), 'inventory.json');
  const compiler = new FleetCompiler({ policy: policyModel, inventory: inventoryModel, names: new Map() });
  const full = buildRoleGraph(compiler, policyModel, inventoryModel);
  assert.equal(full.nodes.filter((n) => n.kind === 'role').length, 200);

  const folded = aggregateGraph(full);
  assert.equal(folded.hiddenRoles, 200);
  assert.deepEqual(
    folded.nodes.map((n) => `${n.kind} ${n.label} ${n.roles?.length} roles ${n.hosts.length} hosts`),
    CONSOLE_ENVIRONMENTS.slice().sort().map((env) => `environment ${env} 50 roles 500 hosts`),
  );
  assert.deepEqual(folded.nodes.flatMap((n) => n.hosts).sort(), full.nodes.flatMap((n) => n.hosts).sort(), 'every host in exactly one node');
  assert.equal(folded.edges.reduce((n, e) => n + (e.merged ?? 1), 0), full.edges.length, 'every edge of the full map is counted once');
  const envOf = new Map(full.nodes.map((n) => [n.id, n.environment]));
  const folder = new Map(folded.nodes.map((n) => [n.environment, n.id]));
  for (const e of full.edges) {
    const merged = folded.edges.find((m) => m.from === folder.get(envOf.get(e.from) ?? null) && m.to === folder.get(envOf.get(e.to) ?? null));
    assert.ok(merged !== undefined && e.permissions.every((p) => merged.permissions.includes(p)), `${e.from} -> ${e.to}: its rules are on the merged edge`);
  }
  for (const m of folded.edges) assert.equal(new Set(m.permissions).size, m.permissions.length, 'a rule once per merged edge');
  const layout = layoutGraph(folded);
  assert.equal(Object.keys(layout.nodes).length, 4);

  const open = aggregateGraph(full, { open: new Set(['production']) });
  assert.equal(open.hiddenRoles, 150);
  assert.equal(open.nodes.filter((n) => n.kind === 'role' && n.environment === 'production').length, 50);
  assert.deepEqual(open.nodes.filter((n) => n.kind === 'environment').map((n) => n.label).sort(), ['dev', 'qa', 'staging']);
  assert.equal(open.edges.reduce((n, e) => n + (e.merged ?? 1), 0), full.edges.length);

  /* Filters come first: what they leave is small enough to show as roles. */
  const production = aggregateGraph(filterGraph(full, { environment: 'production' }));
  assert.equal(production.hiddenRoles, 0);
  assert.ok(production.nodes.every((n) => n.kind === 'role'));
  const search = aggregateGraph(filterGraph(full, { search: 'svc12' }));
  assert.equal(search.hiddenRoles, 0);
  assert.ok(search.nodes.some((n) => n.label === 'svc12'));
  /* A small map is never folded. */
  assert.equal(aggregateGraph(graphOf()).hiddenRoles, 0);
  assert.deepEqual(aggregateGraph(graphOf()).nodes, graphOf().nodes);
});

test('palisade graph folds a large map like the console; --open and --all-roles show roles, an unknown environment is a usage error', async () => {
  const dir = tempDir('palisade-graph-large-');
  writeFileSync(join(dir, 'inventory.json'), JSON.stringify(consoleInventory(2000)));
  writeFileSync(join(dir, 'policy.yaml'), JSON.stringify(consolePolicy(400)));
  const files = ['--policy', join(dir, 'policy.yaml'), '--inventory', join(dir, 'inventory.json'), '--no-resolve'];
  const folded = await runCli(['graph', ...files, '--format', 'dot']);
  assert.equal(folded.code, 0, folded.stderr);
  assert.match(folded.stdout, /label="production\\n50 roles · 500 hosts"/);
  assert.match(folded.stdout, /^ {2}a\d+ -> a\d+ \[label="\d+ arrows? · \d+ rules?"/m);
  const open = JSON.parse((await runCli(['graph', ...files, '--format', 'json', '--open', 'production'])).stdout) as RoleGraph;
  assert.equal(open.hiddenRoles, 150);
  assert.equal(open.nodes.filter((n) => n.kind === 'role').length, 50);
  const all = JSON.parse((await runCli(['graph', ...files, '--format', 'json', '--all-roles'])).stdout) as RoleGraph;
  assert.equal(all.hiddenRoles, 0);
  assert.equal(all.nodes.filter((n) => n.kind === 'role').length, 200);
  const unknown = await runCli(['graph', ...files, '--open', 'nope']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no environment "nope" in the inventory/);
});
