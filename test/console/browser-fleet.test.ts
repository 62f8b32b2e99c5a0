/**
 * The live console on a real fleet: etcd on loopback, two network namespaces on a bridge, one `palisade agent`
 * per namespace, the console watching etcd, a page open in headless Chromium. When a second host is
 * registered and its agent joins, the page shows its role, the edge the policy gives it and its state without
 * a reload; a connection the policy drops shows up in the hosts table's drop counter (published by the agent
 * under `counters/<name>`). Agents, namespaces, etcd, the browser and the server are removed in after(), even
 * on failure.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { fleetConsoleSource, type ConsoleSource } from '../../src/app/console.ts';
import { consoleAssets } from '../../src/console/assets.ts';
import { startConsoleServer, type RunningConsole } from '../../src/console/server.ts';
import { fleetKeys } from '../../src/fleet/keys.ts';
import { encodeRegistration } from '../../src/fleet/registry.ts';
import { addNamespace, deleteNamespace, ipBatch } from '../../src/lab/namespaces.ts';
import { launchBrowser, screenshot, skipWithoutChromium, type TestBrowser } from '../helpers/browser.ts';
import { runCli } from '../helpers/cli.ts';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.ts';
import { appFromClients } from '../helpers/fleet.ts';
import { skipUnlessRoot } from '../helpers/netns.ts';
import { tempDir } from '../helpers/tmp.ts';

const BIN = join(import.meta.dirname, '../../bin/palisade.js');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, check: () => T | null | false | Promise<T | null | false>, timeoutMs: number): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value !== null && value !== false) return value;
    if (Date.now() - started > timeoutMs) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

describe('the live console follows a fleet', { skip: skipUnlessRoot || skipWithoutChromium }, () => {
  const tag = randomBytes(3).toString('hex');
  const subnet = randomInt(2, 250);
  const bridge = `pal-cs-${tag}-br`;
  const ns = (i: number): string => `pal-cs-${tag}-${i}`;
  const ip = (i: number): string => `10.233.${subnet}.${i + 1}`;
  const NAMES = ['app-1', 'client-1'];
  const ROLES = ['app', 'client'];
  const dir = tempDir('palisade-console-fleet-');
  const made: string[] = [];
  const agents: ChildProcess[] = [];
  let etcd: EtcdCluster;
  let url: string;
  let source: ConsoleSource | undefined;
  let server: RunningConsole | undefined;
  let browser: TestBrowser | undefined;
  let page: Page;

  const register = (i: number): void => {
    const keys = fleetKeys('/palisade');
    const name = NAMES[i] as string;
    etcd.ctl(['put', keys.host(name), encodeRegistration(keys, { name, roles: [ROLES[i] as string], networks: [`10.233.${subnet}.0/24`] }).text]);
  };

  const startAgent = (i: number): void => {
    const log = openSync(join(dir, `agent-${i}.log`), 'a');
    agents.push(
      spawn(
        process.execPath,
        [BIN, 'agent', '--host', NAMES[i] as string, '--inventory', url, '--netns', ns(i), '--state-dir', join(dir, `state-${i}`), '--lan', 'eth0', '--ttl', '2', '--grace', '4', '--no-resolve', '--counters-interval', '1'],
        { stdio: ['ignore', log, log] },
      ),
    );
  };

  before(async () => {
    etcd = await startEtcd();
    url = etcd.url();
    made.push(bridge);
    await addNamespace(bridge);
    await ipBatch(bridge, ['link set lo up', 'link add br0 type bridge', 'link set br0 up']);
    for (const i of [0, 1]) {
      made.push(ns(i));
      await addNamespace(ns(i));
      await ipBatch(bridge, [`link add v${i} type veth peer name eth0 netns ${ns(i)}`, `link set v${i} master br0`, `link set v${i} up`]);
      await ipBatch(ns(i), ['link set lo up', 'link set eth0 up', `addr add ${ip(i)}/24 dev eth0`]);
    }
    writeFileSync(join(dir, 'policy.yaml'), appFromClients(8080));
    const push = await runCli(['push', '--policy', join(dir, 'policy.yaml'), '--inventory', url]);
    assert.equal(push.code, 0, push.stderr);
    register(0);
    startAgent(0);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await source?.close();
    for (const agent of agents) {
      if (agent.exitCode !== null) continue;
      const gone = new Promise((r) => agent.once('exit', r));
      agent.kill('SIGKILL');
      await gone;
    }
    for (const name of made.reverse()) await deleteNamespace(name).catch(() => undefined);
    await etcd?.close();
  });

  it('shows the fleet as it is, then a joining host without a reload', async () => {
    source = await fleetConsoleSource({ inventory: url });
    server = await startConsoleServer(source, await consoleAssets(), { host: '127.0.0.1', port: 0, token: null, tls: null });
    browser = await launchBrowser();
    page = await browser.page();
    await page.goto(server.url);
    await page.waitForSelector('body[data-generation] svg .node.role[data-label="app"]');
    await page.evaluate('window.__sameDocument = true');
    assert.equal(await page.locator('.node.role[data-label="client"]').count(), 0);
    await screenshot(page, 'console-fleet-before');

    register(1);
    startAgent(1);
    await page.waitForSelector('.node.role[data-label="client"]', { timeout: 60_000 });
    await page.waitForSelector('.edge-group[data-from="client"][data-to="app"]', { timeout: 60_000 });
    assert.equal(await page.evaluate('window.__sameDocument'), true, 'the page was reloaded');

    await page.click('nav button[data-tab="hosts"]');
    await until(
      'both agents to report ok on the hosts page',
      async () => {
        const states = await page.$$eval('#hosts tbody tr', (rows) => rows.map((r) => `${r.getAttribute('data-host')} ${r.querySelectorAll('td')[4]?.textContent ?? ''}`).sort());
        return states.join(',') === 'app-1 ok,client-1 ok' && states;
      },
      120_000,
    );
    assert.equal(await page.evaluate('window.__sameDocument'), true, 'the page was reloaded');
    const drift = await page.$$eval('#hosts tbody tr', (rows) => rows.map((r) => r.querySelectorAll('td')[7]?.textContent ?? ''));
    assert.deepEqual(drift, ['none', 'none'], 'the drift column: both kernels hold what their agents applied');
    await screenshot(page, 'console-fleet-after');
  });

  it("counts a connection the policy drops in the hosts table, sortable, and on the host's page", async () => {
    const cell = (host: string, column: string): Promise<string> => page.$eval(`#hosts tbody tr[data-host="${host}"] td[data-column="${column}"]`, (td) => td.textContent ?? '');
    const published = await until('app-1 to publish its counters', async () => {
      const text = await cell('app-1', 'dropped');
      return /^\d+$/.test(text) && { dropped: Number(text) };
    }, 60_000);
    const before = published.dropped;
    /* client-1 → app-1 on a port no rule allows: app-1's input chain drops the SYNs. */
    spawnSync('ip', ['netns', 'exec', ns(1), 'timeout', '3', 'bash', '-c', `exec 3<>/dev/tcp/${ip(0)}/9099`], { stdio: 'ignore' });
    const dropped = await until('the drops to reach the hosts table', async () => {
      const text = await cell('app-1', 'dropped');
      return /^\d+$/.test(text) && Number(text) > before && Number(text);
    }, 60_000);
    assert.ok(dropped >= 1);
    assert.equal(await page.evaluate('window.__sameDocument'), true, 'the page was reloaded');

    await page.click('#hosts thead th:has-text("dropped")');
    await page.click('#hosts thead th:has-text("dropped")');
    assert.equal(await page.$eval('#hosts tbody tr', (tr) => tr.getAttribute('data-host')), 'app-1', 'sorted by drops, most first');

    await page.click('#hosts tbody tr[data-host="app-1"]');
    await page.waitForSelector('#host-counters td');
    const title = await page.$eval('#host-page h3:nth-of-type(2)', (h) => h.textContent ?? '');
    assert.match(title, /^Counters: (\d+) dropped, \d+ rejected \(as its agent published them at /);
    const rows = await page.$$eval('#host-counters tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent).join(' ')));
    assert.ok(rows.some((r) => /^input [1-9]\d* dropped/.test(r)), rows.join('\n'));
    await screenshot(page, 'console-fleet-drops');
  });
});
