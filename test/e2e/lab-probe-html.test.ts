/**
 * `lab probe --format html` in a real lab: three hosts in namespaces (one with a hostile role name, a rule with
 * a hostile name), their rulesets loaded, probed for real; the page opened in headless Chromium. Its role and
 * host matrices hold what the probe's verdicts say (a JSON probe of the same lab), the role map is drawn, and
 * the hostile names are text: no element, no script. The lab is removed in after(), even on failure.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cell } from '../../src/lab/matrix.ts';
import type { ProbeReport } from '../../src/lab/probe.ts';
import type { ProbeResult } from '../../src/lab/probe-run.ts';
import { artifactsDir, launchBrowser, screenshot, skipWithoutChromium, type TestBrowser } from '../helpers/browser.ts';
import { runCli } from '../helpers/cli.ts';
import { uniqueLab } from '../helpers/lab.ts';
import { skipUnlessRoot } from '../helpers/netns.ts';
import { tempDir } from '../helpers/tmp.ts';

const HOSTILE_ROLE = '<img src=x onerror="window.__pwned=1">';
const HOSTILE_RULE = '</title><script>window.__pwned=2</script>';
const INVENTORY = `
hosts:
  - { name: web-1, environment: prod, roles: ['${HOSTILE_ROLE}'], interfaces: { eth0: [10.66.0.1] }, lan: eth0 }
  - { name: db-1, environment: prod, roles: [db], interfaces: { eth0: [10.66.0.2] }, lan: eth0 }
  - { name: mon-1, environment: prod, roles: [monitoring], interfaces: { eth0: [10.66.0.3] }, lan: eth0 }
`;
const POLICY = `
settings: { input_drop: true, output_drop: false }
rules:
  '${HOSTILE_RULE}':
    on: roles:db
    direction: in
    protocol: tcp
    source: [web-1]
    dport: 5432
  Scrapes:
    on: "roles:*"
    direction: in
    protocol: tcp
    source: roles:monitoring
    dport: 9100
`;

describe('lab probe --format html in a real lab', { skip: skipUnlessRoot || skipWithoutChromium }, () => {
  const lab = uniqueLab('phtml');
  const dir = tempDir('palisade-probe-html-');
  const files = ['--policy', join(dir, 'policy.yaml'), '--inventory', join(dir, 'inventory.yaml'), '--no-resolve'];
  let browser: TestBrowser | undefined;

  before(async () => {
    writeFileSync(join(dir, 'inventory.yaml'), INVENTORY);
    writeFileSync(join(dir, 'policy.yaml'), POLICY);
    const up = await runCli(['lab', 'up', '--lab', lab, '--inventory', join(dir, 'inventory.yaml')]);
    assert.equal(up.code, 0, up.stderr);
    const applied = await runCli(['lab', 'apply', '--lab', lab, ...files]);
    assert.equal(applied.code, 0, applied.stderr);
  });

  after(async () => {
    await browser?.close();
    const down = await runCli(['lab', 'down', '--lab', lab]);
    assert.equal(down.code, 0, down.stderr);
  });

  it("the page's matrices are the probe's verdicts, with the map, and hostile names stay text", async () => {
    const json = await runCli(['lab', 'probe', '--lab', lab, ...files, '--format', 'json']);
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout) as ProbeReport;
    const html = await runCli(['lab', 'probe', '--lab', lab, ...files, '--format', 'html']);
    assert.equal(html.code, 0, html.stderr);
    assert.doesNotMatch(html.stdout, /<img|<script/i, 'hostile names are escaped in the HTML itself');
    const path = join(artifactsDir(), `lab-probe-${lab}.html`);
    writeFileSync(path, html.stdout);

    browser = await launchBrowser();
    const page = await browser.page();
    await page.goto(`file://${path}`);
    await page.waitForSelector('table');
    const tables = await page.$$eval('table', (ts) => ts.map((t) => [...t.querySelectorAll('tr')].map((tr) => [...tr.children].map((c) => c.textContent ?? ''))));
    const [roleTable, hostTable] = tables as [string[][], string[][]];

    /* The probe's verdicts, pair by pair, in the matrix's words (22 = tcp/22, ping, ...). */
    const expected = (pick: (r: ProbeResult) => boolean): string => cell(report.results.filter(pick));
    const columns = (hostTable[0] ?? []).slice(1);
    assert.deepEqual([...columns].sort(), ['db-1', 'mon-1', 'web-1']);
    for (const row of hostTable.slice(1)) {
      const source = row[0] as string;
      columns.forEach((destination, i) => {
        const want = source === destination ? '\\' : expected((r) => r.source === source && r.destination === destination);
        assert.equal(row[i + 1], want, `${source} -> ${destination}`);
      });
    }
    const roleOf: Record<string, string> = { 'web-1': `prod/${HOSTILE_ROLE}`, 'db-1': 'prod/db', 'mon-1': 'prod/monitoring' };
    const roleColumns = (roleTable[0] ?? []).slice(1);
    assert.deepEqual([...roleColumns].sort(), Object.values(roleOf).sort(), 'role names shown as their text');
    for (const row of roleTable.slice(1)) {
      roleColumns.forEach((destination, i) => {
        const want = expected((r) => roleOf[r.source] === row[0] && roleOf[r.destination] === destination);
        assert.equal(row[i + 1], want, `${row[0]} -> ${destination}`);
      });
    }
    /* What the policy says, independently of the matrix's code: the kernel let these through and not the others. */
    const at = (source: string, destination: string): string => hostTable.find((r) => r[0] === source)?.[columns.indexOf(destination) + 1] ?? '';
    assert.match(at('web-1', 'db-1'), /\b5432\b/);
    assert.match(at('mon-1', 'web-1'), /\b9100\b/);
    assert.doesNotMatch(at('db-1', 'web-1'), /\b(5432|9100)\b/);
    assert.doesNotMatch(at('mon-1', 'db-1'), /\b5432\b/);

    /* The role map: one box per role, the hostile one by its text, its arrows. */
    const nodes = await page.$$eval('svg .node title', (titles) => titles.map((t) => t.textContent ?? ''));
    assert.deepEqual(nodes.sort(), Object.values(roleOf).map((r) => r.replace('/', ' / ')).sort());
    /* Scrapes from monitoring to every role (itself too), the db rule from web-1. */
    assert.equal(await page.locator('svg path.edge').count(), 4);
    assert.match((await page.locator('p.summary').innerText()) ?? '', new RegExp(`^${report.summary.probes} probes, ${report.summary.passed} passed, .*: 0 mismatch\\(es\\) with explain`));

    assert.equal(await page.evaluate('typeof window.__pwned'), 'undefined');
    assert.equal(await page.locator('img, script').count(), 0);
    await screenshot(page, `lab-probe-html`);
  });
});
