import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileConsoleSource, type ConsoleSource } from '../../src/app/console.ts';
import { consoleAssets, type ConsoleAssets } from '../../src/console/assets.ts';
import { CONTENT_SECURITY_POLICY, consoleApp, startConsoleServer, tokenMatches } from '../../src/console/server.ts';
import { parseListen } from '../../src/cli/commands/console.ts';
import { UsageError } from '../../src/diagnostics.ts';
import { tempDir } from '../helpers/tmp.ts';
import { pendingView } from '../../src/app/console-views.ts';
import { consoleInventory, consolePolicy } from '../../bench/console-fleet.ts';

const PORT = 8742;
const HOST = { host: `127.0.0.1:${PORT}` };
let source: ConsoleSource;
let assets: ConsoleAssets;
const dir = tempDir('palisade-console-');

/** web-shop-1 → api-1 on 8080 as www-data, as `palisade observe` would record it. */
const FLOWS = { flows: [{ source: '10.10.2.21', destination: '10.10.3.41', protocol: 'tcp', port: 8080, uid: 33, verdict: 'live', count: 3 }] };

before(async () => {
  writeFileSync(join(dir, 'flows.json'), JSON.stringify(FLOWS));
  [source, assets] = await Promise.all([fileConsoleSource({ flows: [join(dir, 'flows.json')] }), consoleAssets()]);
});
after(() => source.close());

const app = (token: string | null = null, host = '127.0.0.1') => consoleApp(source, assets, { host, port: PORT, token, tls: null });
const get = (path: string, headers: Record<string, string> = HOST, token: string | null = null) => app(token).request(path, { headers });

test('the page: three static files, strict CSP, no inline script or handler', async () => {
  const page = await get('/');
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(page.headers.get('x-frame-options'), 'DENY');
  const html = await page.text();
  assert.deepEqual(html.match(/<script[^>]*>/g), ['<script src="/app.js" defer>']);
  assert.doesNotMatch(html, /\son[a-z]+=/i);
  assert.doesNotMatch(html, /style=/);
  assert.match((await get('/app.js')).headers.get('content-type') ?? '', /^text\/javascript/);
  assert.doesNotMatch(assets.js, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
});

test('the map of the bundled example: roles, edges with their rules, the observed flow overlaid', async () => {
  const view = (await (await get('/api/map')).json()) as {
    graph: { nodes: Array<{ id: string; label: string; environment: string | null }>; edges: Array<{ from: string; to: string; permissions: Array<{ rule: string; file: string; line: number }> }> };
    flows: Array<{ from: string; to: string; records: number }>;
  };
  const id = (env: string, label: string) => view.graph.nodes.find((n) => n.environment === env && n.label === label)?.id;
  const edge = view.graph.edges.find((e) => e.from === id('production', 'webserver') && e.to === id('production', 'api'));
  assert.deepEqual(edge?.permissions.map((p) => `${p.rule} ${p.file.endsWith('examples/shop/policy.yaml')}:${p.line}`).sort(), ['API from web true:75', 'Web to API true:59']);
  assert.deepEqual(view.flows.map((f) => [f.from, f.to, f.records]), [[id('production', 'webserver'), id('production', 'api'), 3]]);
  const filtered = (await (await get('/api/map?environment=staging&port=8080')).json()) as { graph: { nodes: Array<{ environment: string | null }> } };
  assert.ok(filtered.graph.nodes.every((n) => n.environment === 'staging'));
  assert.equal((await get('/api/map?port=nope')).status, 400);
  assert.equal(((await (await get('/api/map?open=production')).json()) as { graph: { hiddenRoles: number } }).graph.hiddenRoles, 0, 'a small map is never folded');
  const unknown = await get('/api/map?open=%3Cscript%3E');
  assert.equal(unknown.status, 400);
  assert.deepEqual(await unknown.json(), { error: 'no environment "<script>" in the inventory' });
});

test('hosts, a host page with its nft ruleset, explain with file:line and sets', async () => {
  const hosts = (await (await get('/api/hosts')).json()) as { hosts: Array<{ name: string }> };
  assert.equal(hosts.hosts.length, 18);
  const page = (await (await get('/api/hosts/api-1')).json()) as { nft: string; sets: unknown[] };
  assert.match(page.nft, /table inet palisade/);
  assert.ok(page.sets.length > 0);
  const unknown = await get('/api/hosts/nope');
  assert.equal(unknown.status, 400);
  assert.match(((await unknown.json()) as { error: string }).error, /not in the inventory/);
  const explained = (await (await get('/api/explain?from=web-shop-1&to=api-1&port=8080&user=www-data')).json()) as {
    explanation: { allowed: boolean };
    rules: Array<{ rule: string; line: number }>;
    sets: Array<{ host: string; definition: string }>;
  };
  assert.equal(explained.explanation.allowed, true);
  assert.deepEqual(explained.rules.map((r) => `${r.rule}:${r.line}`), ['Web to API:59', 'API from web:75']);
  assert.ok(explained.sets.some((s) => s.host === 'api-1' && s.definition.includes('roles:webserver AND SAMETAG')));
  assert.equal((await get('/api/explain?from=web-shop-1')).status, 400);
});

const pending = (body: string, headers: Record<string, string> = {}) => app().request('/api/pending', { method: 'POST', body, headers: { ...HOST, 'content-type': 'text/plain', ...headers } });

test('a pending policy: positioned errors, or its map changes, the observed flows it cuts and the rules to keep them', async () => {
  const invalid = await pending('rules:\n  Broken:\n    direction: sideways\n');
  assert.equal(invalid.status, 422);
  const { diagnostics } = (await invalid.json()) as { diagnostics: Array<{ file: string; line: number; message: string }> };
  assert.ok(diagnostics.some((d) => d.file === 'pending.yaml' && d.line === 3), JSON.stringify(diagnostics));
  const policy = readFileSync('examples/shop/policy.yaml', 'utf8').replace(/ {2}API from web:\n(?: {4}.*\n)+/, '');
  const response = await pending(policy);
  assert.equal(response.status, 200, await response.clone().text());
  const view = (await response.json()) as { changes: Array<{ change: string; fromLabel: string; toLabel: string; before: string[]; after: string[] }>; cut: Array<{ port: number; flows: number }>; suggest: string };
  const webToApi = view.changes.find((c) => c.fromLabel === 'production/webserver' && c.toLabel === 'production/api');
  assert.equal(webToApi?.change, 'changed');
  assert.ok(webToApi?.before.some((b) => b.includes('API from web')));
  assert.deepEqual(view.cut.map((c) => [c.port, c.flows]), [[8080, 1]]);
  assert.match(view.suggest, /dport: 8080/);
});

test('console --pending FILE: the page gets the file, and its errors name the file, never a name the browser sends', async () => {
  assert.equal((await get('/api/pending')).status, 404, 'no --pending file');
  const file = { name: '/srv/policies/candidate.yaml', text: 'rules:\n  Broken:\n    direction: sideways\n' };
  const withFile = consoleApp(source, assets, { host: '127.0.0.1', port: PORT, token: null, tls: null, pending: file });
  const served = await withFile.request('/api/pending', { headers: HOST });
  assert.deepEqual(await served.json(), file);
  const judge = async (application: typeof withFile, path: string): Promise<string[]> => {
    const response = await application.request(path, { method: 'POST', body: file.text, headers: { ...HOST, 'content-type': 'text/plain' } });
    assert.equal(response.status, 422);
    return ((await response.json()) as { diagnostics: Array<{ file: string }> }).diagnostics.map((d) => d.file);
  };
  assert.deepEqual([...new Set(await judge(withFile, '/api/pending?file'))], [file.name]);
  assert.deepEqual([...new Set(await judge(withFile, '/api/pending?file=/etc/shadow'))], [file.name], 'the name is the server\'s');
  assert.deepEqual([...new Set(await judge(app(), '/api/pending?file'))], ['pending.yaml'], 'without --pending, pasted text');
});

test('abuse: wrong Host (DNS rebinding), writes, cross-origin posts, huge bodies, missing or wrong tokens', async () => {
  assert.equal((await get('/api/map', { host: 'attacker.example:8742' })).status, 421);
  assert.equal((await get('/api/map', {})).status, 421);
  assert.equal((await app().request('/api/map', { method: 'DELETE', headers: HOST })).status, 405);
  assert.equal((await app().request('/api/hosts', { method: 'POST', headers: HOST })).status, 405);
  assert.equal((await pending('rules: {}\n', { origin: 'http://attacker.example' })).status, 403);
  assert.equal((await pending('rules: {}\n', { origin: `http://127.0.0.1:${PORT}` })).status, 200);
  assert.equal((await pending(`# ${'x'.repeat(1024 * 1024)}\nrules: {}\n`)).status, 413);
  const deep = `${'['.repeat(10000)}${']'.repeat(10000)}`;
  assert.ok([400, 422].includes((await pending(deep)).status));
  assert.equal((await get('/api/map', HOST, 'secret')).status, 401);
  assert.equal((await get('/api/map', { ...HOST, authorization: 'Bearer wrong' }, 'secret')).status, 401);
  assert.equal((await get('/api/map', { ...HOST, authorization: 'Bearer secret' }, 'secret')).status, 200);
  assert.equal((await get('/', HOST, 'secret')).status, 200);
  assert.equal(tokenMatches('a', 'a'), true);
  assert.equal(tokenMatches('a', 'ab'), false);
});

test('listening off loopback needs a token or client certificates; --listen is checked', async () => {
  await assert.rejects(startConsoleServer(source, assets, { host: '0.0.0.0', port: 0, token: null, tls: null }), UsageError);
  const running = await startConsoleServer(source, assets, { host: '127.0.0.1', port: 0, token: null, tls: null });
  try {
    const response = await fetch(`${running.url}api/hosts`);
    assert.equal(response.status, 200);
  } finally {
    await running.close();
  }
  assert.deepEqual(parseListen('127.0.0.1:8742'), { host: '127.0.0.1', port: 8742 });
  assert.deepEqual(parseListen('[::1]:9000'), { host: '::1', port: 9000 });
  assert.deepEqual(parseListen('9000'), { host: '127.0.0.1', port: 9000 });
  assert.throws(() => parseListen('host:99999'), UsageError);
  assert.throws(() => parseListen('nonsense'), UsageError);
});

test('a pending policy on a large fleet: its map folded like the main map, each change on the folded arrow that holds it', async () => {
  const big = tempDir('palisade-console-pending-big-');
  writeFileSync(join(big, 'inventory.json'), JSON.stringify(consoleInventory(2000)));
  const policy = consolePolicy(400);
  writeFileSync(join(big, 'policy.yaml'), JSON.stringify(policy));
  const world = (await fileConsoleSource({ policy: [join(big, 'policy.yaml')], inventory: join(big, 'inventory.json') })).world();
  const candidate = { ...policy, rules: { ...policy.rules, 'New from svc1': { on: 'roles:svc5', direction: 'in', protocol: 'tcp', source: ['roles:svc1'], dport: 7777 } } };
  const view = await pendingView(world, JSON.stringify(candidate));
  assert.equal(view.graph.hiddenRoles, 200);
  assert.deepEqual(view.graph.nodes.map((n) => n.label).sort(), ['dev', 'production', 'qa', 'staging']);
  const added = view.changes.filter((c) => c.change === 'added' || c.change === 'changed');
  assert.equal(added.length, 1, JSON.stringify(view.changes));
  const staging = view.graph.nodes.find((n) => n.label === 'staging')?.id;
  const edge = view.graph.edges.find((e) => e.from === added[0]?.from && e.to === added[0]?.to);
  assert.ok(edge !== undefined && edge.from === staging && edge.to === staging, 'svc1 and svc5 are both in staging: the change is on its loop');
  assert.ok(edge.permissions.some((p) => p.rule === 'New from svc1'));
});
