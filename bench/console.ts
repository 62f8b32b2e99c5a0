/**
 * The console (issue 13) at 10,000 hosts / 200 roles / 400 rules (bench/console-fleet.ts): the map in real
 * headless Chromium (navigation → map drawn, environments folded; click on an edge → its rules shown; an
 * environment expanded → its 50 roles drawn), against the bundled example's 18-host map loaded the same way in
 * the same browser (baseline: its navigation, click, and a role expanded into its hosts); the API's host page (median over
 * 50 hosts) against compiling and rendering the same hosts without HTTP (baseline). Goals: map interactive
 * under 2 s, host page under 50 ms.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { fileConsoleSource, type ConsoleSource } from '../src/app/console.ts';
import { consoleAssets } from '../src/console/assets.ts';
import { consoleApp, startConsoleServer, type RunningConsole } from '../src/console/server.ts';
import { buildRoleGraph } from '../src/graph/model.ts';
import { layoutGraph } from '../src/graph/layout.ts';
import { nftLoadScript } from '../src/kernel/nft.ts';
import { launchBrowser } from '../test/helpers/browser.ts';
import { consoleInventory, consolePolicy } from './console-fleet.ts';
import { median } from './stats.ts';

const fmt = (n: number, digits = 0): string => n.toFixed(digits);
const RUNS = 5;

interface PageTimes {
  ready: number;
  click: number;
  /** A folded environment (10,000 hosts) or a role (the example) clicked and expanded → the map drawn again. */
  expand: number;
}

async function pageTimes(page: Page, url: string, expand: { node: string; button: string; drawn: string }): Promise<PageTimes> {
  await page.goto(url);
  await page.waitForSelector('body[data-generation] svg .node', { timeout: 120_000 });
  const ready = Number(await page.getAttribute('body', 'data-map-ready-at'));
  let started = Date.now();
  await page.locator('.edge-group').first().dispatchEvent('click');
  await page.waitForSelector('#edge-rules li');
  const click = Date.now() - started;
  await page.locator(expand.node).dispatchEvent('click');
  started = Date.now();
  await page.click(`#details button:has-text("${expand.button}")`);
  await page.waitForSelector(expand.drawn, { timeout: 120_000 });
  return { ready, click, expand: Date.now() - started };
}

const EXPAND_ENVIRONMENT = { node: '.node.environment[data-label="production"]', button: 'Expand', drawn: '.node.role[data-environment="production"]' };
const EXPAND_ROLE = { node: '.node.role[data-label="webserver"][data-environment="production"]', button: 'Show its hosts', drawn: '.node.host[data-environment="production"]' };

export async function benchConsole(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-bench-console-'));
  const sources: ConsoleSource[] = [];
  const servers: RunningConsole[] = [];
  const browser = await launchBrowser();
  try {
    writeFileSync(join(dir, 'inventory.json'), JSON.stringify(consoleInventory(10_000)));
    writeFileSync(join(dir, 'policy.yaml'), JSON.stringify(consolePolicy(400)));
    const assets = await consoleAssets();
    const loadStart = performance.now();
    const big = await fileConsoleSource({ policy: [join(dir, 'policy.yaml')], inventory: join(dir, 'inventory.json') });
    const loadMs = performance.now() - loadStart;
    const example = await fileConsoleSource({});
    sources.push(big, example);

    const world = big.world();
    const graphStart = performance.now();
    const graph = buildRoleGraph(world.compiler, world.policy, world.inventory);
    const graphMs = performance.now() - graphStart;
    const layoutStart = performance.now();
    layoutGraph(graph);
    const layoutMs = performance.now() - layoutStart;

    const server = await startConsoleServer(big, assets, { host: '127.0.0.1', port: 0, token: null, tls: null });
    const exampleServer = await startConsoleServer(example, assets, { host: '127.0.0.1', port: 0, token: null, tls: null });
    servers.push(server, exampleServer);
    const page = await browser.page();
    const bigTimes: PageTimes[] = [];
    const exampleTimes: PageTimes[] = [];
    for (let i = 0; i < RUNS; i++) {
      exampleTimes.push(await pageTimes(page, exampleServer.url, EXPAND_ROLE));
      bigTimes.push(await pageTimes(page, server.url, EXPAND_ENVIRONMENT));
    }

    /* The host page through the API (the app, no socket) against compile + render of the same hosts. */
    const app = consoleApp(big, assets, { host: '127.0.0.1', port: server.port, token: null, tls: null });
    const hosts = Array.from({ length: 50 }, (_, i) => world.inventory.hosts[(i * 197) % world.inventory.hosts.length]?.name as string);
    const apiMs: number[] = [];
    for (const host of hosts) {
      const t = performance.now();
      const response = await app.request(`/api/hosts/${host}`, { headers: { host: `127.0.0.1:${server.port}` } });
      await response.json();
      apiMs.push(performance.now() - t);
    }
    /* Other hosts than the API's, so that neither side finds its ruleset already compiled. */
    const others = hosts.map((_, i) => world.inventory.hosts[(i * 197 + 1) % world.inventory.hosts.length]?.name as string);
    const directMs: number[] = [];
    for (const host of others) {
      const t = performance.now();
      nftLoadScript(world.compiler.compile(host));
      directMs.push(performance.now() - t);
    }
    const ready = median(bigTimes.map((t) => t.ready));
    const click = median(bigTimes.map((t) => t.click));
    const baseReady = median(exampleTimes.map((t) => t.ready));
    const baseClick = median(exampleTimes.map((t) => t.click));
    const expand = median(bigTimes.map((t) => t.expand));
    const baseExpand = median(exampleTimes.map((t) => t.expand));
    const api = median(apiMs);
    const direct = median(directMs);
    return [
      `## Console (issue 13): ${world.inventory.hosts.length} hosts, ${graph.nodes.length} roles, ${world.policy.rules.length} rules (load ${fmt(loadMs / 1000, 1)} s; map model ${fmt(graphMs)} ms, layout ${fmt(layoutMs)} ms, ${graph.edges.length} edges)`,
      '',
      `| measure (median of ${RUNS} page loads, headless Chromium) | 10,000 hosts | example, 18 hosts (baseline) | ratio | goal |`,
      '|---|---:|---:|---:|---|',
      `| navigation → map drawn (environments folded) and clickable | ${fmt(ready)} ms | ${fmt(baseReady)} ms | ${fmt(ready / baseReady, 2)}x | < 2000 ms: ${ready < 2000 ? 'met' : 'not met'} |`,
      `| click on an edge → its rules shown | ${fmt(click)} ms | ${fmt(baseClick)} ms | ${fmt(click / Math.max(baseClick, 1), 2)}x | |`,
      `| expand an environment (50 roles) / a role (its hosts, example) → map drawn | ${fmt(expand)} ms | ${fmt(baseExpand)} ms | ${fmt(expand / Math.max(baseExpand, 1), 2)}x | < 2000 ms: ${expand < 2000 ? 'met' : 'not met'} |`,
      '',
      '| measure (median of 50 hosts) | API `/api/hosts/NAME` | compile + render alone (baseline) | ratio | goal |',
      '|---|---:|---:|---:|---|',
      `| host page | ${fmt(api, 2)} ms | ${fmt(direct, 2)} ms | ${fmt(api / Math.max(direct, 0.001), 2)}x | < 50 ms: ${api < 50 ? 'met' : 'not met'} |`,
      '',
    ].join('\n');
  } finally {
    await browser.close();
    for (const server of servers) await server.close();
    for (const source of sources) await source.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === import.meta.filename) process.stdout.write(`${await benchConsole()}\n`);
