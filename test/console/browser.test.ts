/**
 * The console in real headless Chromium (one browser for the file): the bundled example's map, an edge's
 * rules and explain's answer, a pending policy's cut flows, hostile names shown as text with no script run,
 * and the 10,000-host / 200-role map. Screenshots: see test/helpers/browser.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { fileConsoleSource, type ConsoleSource } from '../../src/app/console.ts';
import { consoleAssets, type ConsoleAssets } from '../../src/console/assets.ts';
import { startConsoleServer, type RunningConsole } from '../../src/console/server.ts';
import { consoleInventory, consolePolicy } from '../../bench/console-fleet.ts';
import { artifactsDir, launchBrowser, screenshot, skipWithoutChromium, type TestBrowser } from '../helpers/browser.ts';
import { tempDir } from '../helpers/tmp.ts';

const dir = tempDir('palisade-console-browser-');

/** web-shop-1 → api-1 on 8080 as www-data (observed), and an audited flow monitoring → bastion. */
const FLOWS = {
  flows: [
    { source: '10.10.2.21', destination: '10.10.3.41', protocol: 'tcp', port: 8080, uid: 33, verdict: 'live', count: 3 },
    { source: '10.10.9.10', destination: '10.10.0.5', protocol: 'tcp', port: 9999, uid: null, verdict: 'audit', count: 2 },
  ],
};

const HOSTILE_ROLE = '<img src=x onerror="window.__pwned=1">';
const HOSTILE_RULE = '</title><script>window.__pwned=2</script>';
const HOSTILE_INVENTORY = `
hosts:
  - { name: evil-1, environment: prod, roles: ['${HOSTILE_ROLE}'], tags: ['"><svg onload=window.__pwned=3>'], interfaces: { eth0: [10.77.0.1] } }
  - { name: db-1, environment: prod, roles: [db], interfaces: { eth0: [10.77.0.2] } }
`;
const HOSTILE_POLICY = `
rules:
  '${HOSTILE_RULE}':
    on: roles:db
    direction: in
    protocol: tcp
    source: "roles:*"
    dport: 5432
`;

async function open(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector('body[data-generation] svg .node');
}

describe('the console in a browser', { skip: skipWithoutChromium }, () => {
  let browser: TestBrowser;
  const servers: Array<{ source: ConsoleSource; server: RunningConsole }> = [];
  let assets: ConsoleAssets;

  async function serve(source: ConsoleSource, pending: { name: string; text: string } | null = null): Promise<string> {
    const server = await startConsoleServer(source, assets, { host: '127.0.0.1', port: 0, token: null, tls: null, pending });
    servers.push({ source, server });
    return server.url;
  }

  before(async () => {
    assets = await consoleAssets();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    for (const { source, server } of servers) {
      await server.close();
      await source.close();
    }
    process.stderr.write(`console screenshots: ${artifactsDir()}\n`);
  });

  it('shows the example: its roles per environment, its edges, the observed flows; an edge shows its rules and explain', async () => {
    writeFileSync(join(dir, 'flows.json'), JSON.stringify(FLOWS));
    const url = await serve(await fileConsoleSource({ flows: [join(dir, 'flows.json')] }));
    const page = await browser.page();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await open(page, url);
    const roles = (env: string) => page.$$eval(`.node.role[data-environment="${env}"]`, (nodes) => nodes.map((n) => n.getAttribute('data-label')).sort());
    assert.deepEqual(await roles('production'), ['api', 'backup', 'bastion', 'loadbalancer', 'mongodb', 'monitoring', 'rabbitmq', 'webserver']);
    assert.deepEqual(await roles('staging'), ['api', 'loadbalancer', 'mongodb', 'rabbitmq', 'webserver']);
    assert.deepEqual(await page.$$eval('.node.network', (nodes) => nodes.map((n) => n.getAttribute('data-label')).sort()), ['0.0.0.0/0', '192.0.2.123/32', '198.51.100.0/24', '224.0.0.18/32', '::/0']);
    assert.equal(await page.locator('.edge-group').count(), 100);
    assert.equal(await page.locator('.edge-group[data-from="loadbalancer"][data-to="webserver"]').count(), 2);
    assert.equal(await page.locator('.flow.live').count(), 1);
    assert.equal(await page.locator('.flow.audit').count(), 1);
    await screenshot(page, 'console-map');

    await page.locator('.edge-group[data-from="loadbalancer"][data-to="webserver"]').first().dispatchEvent('click');
    const rules = await page.$$eval('#edge-rules li', (items) => items.map((i) => i.getAttribute('data-rule')).sort());
    assert.deepEqual(rules, ['HAProxy to web backends', 'Web from load balancers']);
    assert.match(await page.locator('#edge-rules').innerText(), /policy\.yaml:\d+/);
    await page.waitForSelector('#explain p.state-ok');
    const explain = await page.locator('#explain').innerText();
    assert.match(explain, /out of lb-1: accept by rule "HAProxy to web backends"/);
    assert.match(explain, /into web-(blog|shop)-1: accept by rule "Web from load balancers"/);
    assert.match(explain, /set pal4_[0-9a-f]{12} on web-(blog|shop)-1/);
    await screenshot(page, 'console-edge');

    /* Two hosts and a port, typed: the blog's web server may not reach the shop's API (SAMETAG). */
    await page.fill('#x-from', 'web-blog-1');
    await page.fill('#x-to', 'api-1');
    await page.fill('#x-port', '8080');
    await page.fill('#x-user', 'www-data');
    await page.click('#explain-form button');
    await page.waitForSelector('#explain p.cut');
    assert.match(await page.locator('#explain').innerText(), /out of web-blog-1: drop by the default policy/);

    await page.click('nav button[data-tab="hosts"]');
    await page.waitForSelector('#hosts tbody tr[data-host="api-1"]');
    await page.click('#hosts tbody tr[data-host="api-1"]');
    await page.waitForSelector('#host-nft');
    assert.match(await page.locator('#host-nft').innerText(), /table inet palisade/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('a pending policy shows the observed flows it would cut and the rule to keep them', async () => {
    const page = await browser.page();
    await open(page, servers[0]?.server.url as string);
    await page.click('nav button[data-tab="pending"]');
    const candidate = readFileSync('examples/shop/policy.yaml', 'utf8').replace(/ {2}API from web:\n(?: {4}.*\n)+/, '');
    await page.fill('#pending-text', candidate);
    await page.click('#pending-run');
    await page.waitForSelector('#pending-cut tr.cut');
    const cut = await page.locator('#pending-cut tr.cut').allInnerTexts();
    assert.ok(cut.some((row) => /roles:webserver[\s\S]*roles:api[\s\S]*tcp 8080/.test(row)), cut.join('\n'));
    assert.match(await page.locator('#pending-suggest').innerText(), /dport: 8080/);
    assert.ok((await page.locator('#pending-changes li[data-change="changed"]').allInnerTexts()).some((t) => t.includes('production/webserver → production/api')));
    await screenshot(page, 'console-pending');

    await page.fill('#pending-text', 'rules:\n  Broken:\n    direction: sideways\n');
    await page.click('#pending-run');
    await page.waitForSelector('#pending-errors');
    assert.match(await page.locator('#pending-errors').innerText(), /pending\.yaml:3:\d+: error/);
    await page.close();
  });

  it('console --pending FILE: the pending page opens with the file, judged, its errors naming the file', async () => {
    const candidate = readFileSync('examples/shop/policy.yaml', 'utf8').replace(/ {2}API from web:\n(?: {4}.*\n)+/, '');
    const name = join(dir, 'candidate.yaml');
    const url = await serve(await fileConsoleSource({ flows: [join(dir, 'flows.json')] }), { name, text: candidate });
    const page = await browser.page();
    await open(page, url);
    await page.click('nav button[data-tab="pending"]');
    await page.waitForSelector('#pending-cut tr.cut');
    assert.equal(await page.locator('#pending-text').inputValue(), candidate);
    assert.match(await page.locator('#pending-source').innerText(), /candidate\.yaml \(on the server\)/);
    assert.ok((await page.locator('#pending-cut tr.cut').allInnerTexts()).some((row) => /tcp 8080/.test(row)));
    await page.fill('#pending-text', 'rules:\n  Broken:\n    direction: sideways\n');
    await page.click('#pending-run');
    await page.waitForSelector('#pending-errors');
    assert.ok((await page.locator('#pending-errors').innerText()).includes(`${name}:3:`), 'an edit of the file is still the file');
    await page.close();
  });

  it('hostile role, tag and rule names are text: nothing they carry runs', async () => {
    writeFileSync(join(dir, 'hostile-inventory.yaml'), HOSTILE_INVENTORY);
    writeFileSync(join(dir, 'hostile-policy.yaml'), HOSTILE_POLICY);
    const url = await serve(await fileConsoleSource({ policy: [join(dir, 'hostile-policy.yaml')], inventory: join(dir, 'hostile-inventory.yaml') }));
    const page = await browser.page();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await open(page, url);
    assert.deepEqual(await page.$$eval('.node.role', (nodes) => nodes.map((n) => n.getAttribute('data-label')).sort()), [HOSTILE_ROLE, 'db']);
    assert.ok((await page.locator('.node.role .node-label').allTextContents()).some((t) => t.startsWith('<img src=x')));
    await page.locator('.edge-group').first().dispatchEvent('click');
    await page.waitForSelector('#edge-rules li');
    assert.equal(await page.locator('#edge-rules li').first().getAttribute('data-rule'), HOSTILE_RULE);
    await page.click('nav button[data-tab="hosts"]');
    await page.waitForSelector('#hosts tbody tr[data-host="evil-1"]');
    assert.equal(await page.evaluate('typeof window.__pwned'), 'undefined');
    assert.equal(await page.locator('img, main script, #map foreignObject').count(), 0);
    assert.deepEqual(dialogs, []);
    await screenshot(page, 'console-hostile');
    await page.close();
  });

  it('a 10,000-host / 200-role fleet: the map folds environments, says so, answers a click, expands and filters', async () => {
    writeFileSync(join(dir, 'big-inventory.json'), JSON.stringify(consoleInventory(10_000)));
    writeFileSync(join(dir, 'big-policy.yaml'), JSON.stringify(consolePolicy(400)));
    const url = await serve(await fileConsoleSource({ policy: [join(dir, 'big-policy.yaml')], inventory: join(dir, 'big-inventory.json') }));
    const page = await browser.page();
    await open(page, url);
    const ready = Number(await page.getAttribute('body', 'data-map-ready-at'));
    /* Readable without filtering: one node per environment, the hint says what is folded. */
    assert.equal(await page.locator('.node.role').count(), 0);
    assert.deepEqual((await page.$$eval('.node.environment', (nodes) => nodes.map((n) => n.getAttribute('data-label')))).sort(), ['dev', 'production', 'qa', 'staging']);
    assert.match(await page.locator('#map-hint').innerText(), /^200 roles hidden in 4 environments .*click an environment to expand it/);
    assert.ok(await page.locator('#map-hint').isVisible());
    const labels = await page.$$eval('.edge-label', (texts) => texts.map((t) => t.textContent ?? ''));
    assert.ok(labels.length > 0 && labels.every((l) => /^\d+ arrows? · \d+ rules?$/.test(l)), labels.join(', '));
    await screenshot(page, 'console-10k');
    const started = Date.now();
    await page.locator('.edge-group').first().dispatchEvent('click');
    await page.waitForSelector('#edge-rules li');
    const clicked = Date.now() - started;

    /* Expand one environment: its 50 roles, the other three stay folded. */
    await page.locator('.node.environment[data-label="production"]').dispatchEvent('click');
    await page.click('#details button:has-text("Expand")');
    await page.waitForSelector('.node.role[data-environment="production"]');
    assert.equal(await page.locator('.node.role').count(), 50);
    assert.equal(await page.locator('.node.environment').count(), 3);
    assert.match(await page.locator('#map-hint').innerText(), /^150 roles hidden in 3 environments/);
    await screenshot(page, 'console-10k-production');
    await page.click('#map-hint button:has-text("Fold environments again")');
    /* Waited on with a locator: a predicate given as a string is evaluated in the page, which its CSP forbids. */
    await page.locator('.node.role').first().waitFor({ state: 'detached' });
    assert.equal(await page.locator('.node.environment').count(), 4);

    /* Filters still work, and what they leave is shown as roles. */
    await page.fill('#f-search', 'svc12');
    await page.click('#filters button[type="submit"]');
    await page.waitForSelector('.node.role[data-label="svc12"]');
    assert.equal(await page.locator('.node.environment').count(), 0);
    assert.ok(await page.locator('#map-hint').isHidden());
    /* Timings are reported here and measured against the goal by `npm run bench` (never asserted in tests). */
    process.stderr.write(`10,000-host map: ready ${ready} ms after navigation; an edge's rules shown ${clicked} ms after the click\n`);
    await page.close();
  });
});
