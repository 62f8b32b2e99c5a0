/**
 * Issue 6's workflow on the bundled example, in the namespace lab: the shop's policy without its two inbound
 * rules for monitoring and backup ("Node exporter scraped by Prometheus", "MongoDB dumps by the backup
 * server": the flows the team forgot) runs in audit mode on all 18 hosts while prometheus scrapes every
 * host's 9100 and bacula pulls every MongoDB's 27017 (across environments), for real, as those users.
 * `lab audit` runs ulogd2 in every namespace, recording what audit mode let through; `flows --lab` lists it
 * with host names beside the addresses, `impact` says the policy
 * would cut it (grouped by roles), `suggest` writes inbound rules that `check` accepts and that make `impact`
 * clean. Enforced with those rules: `lab probe` agrees with explain everywhere, the forgotten flows connect
 * as their users, and the pairs nobody used stay closed (real connections and explain).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseDocument } from 'yaml';
import type { NamedFlow as Flow } from '../../src/audit/host-names.ts';
import { parseInventoryDocument } from '../../src/inventory/document.ts';
import type { ProbeReport } from '../../src/lab/probe.ts';
import { readState, type LabState } from '../../src/lab/state.ts';
import { runCli } from '../helpers/cli.ts';
import { uniqueLab, usersLeftBehind } from '../helpers/lab.ts';
import { skipUnlessRoot as skip } from '../helpers/netns.ts';
import { LabTraffic, connect } from './audit-lab-traffic.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHOP = join(ROOT, 'examples/shop');
const LAB = uniqueLab('audit');
const FORGOTTEN_RULES = ['Node exporter scraped by Prometheus', 'MongoDB dumps by the backup server'];
const PROMETHEUS = 4090;
const BACULA = 4091;
const APP = 4200;

const inventory = parseInventoryDocument(readFileSync(join(SHOP, 'inventory.yaml'), 'utf8'), 'inventory.yaml');
const v4 = (host: string): string => inventory.hosts.find((h) => h.name === host)?.addresses.v4[0] as string;
const MONGODB = inventory.hosts.filter((h) => h.roles.includes('mongodb')).map((h) => h.name);

/** [source, uid (null: root), destination, port] */
type Pair = [string, number | null, string, number];

/** What the team forgot: prometheus scrapes every other host's node exporter, bacula dumps every MongoDB. */
const FORGOTTEN: Pair[] = [
  ...inventory.hosts.filter((h) => h.name !== 'mon-1').map((h): Pair => ['mon-1', PROMETHEUS, h.name, 9100]),
  ...MONGODB.map((h): Pair => ['backup-1', BACULA, h, 27017]),
];
/** Allowed by the example already: never an audit record. */
const ALLOWED: Pair[] = [['api-1', APP, 'mongodb-shop-1', 27017]];
/**
 * Never observed, denied by the example minus the two rules: must stay denied once enforced. The first two
 * are open on the source's side (bacula may pull 27017 anywhere) and closed only by the destination's input
 * chain; the others are closed by the source's output chain (a dropped SYN: the connection times out).
 */
const UNUSED: Pair[] = [
  ['backup-1', BACULA, 'web-shop-1', 27017],
  ['backup-1', BACULA, 'api-s1', 27017],
  ['web-shop-1', null, 'api-1', 9100],
  ['mon-1', null, 'api-1', 9100],
  ['mon-1', PROMETHEUS, 'api-1', 27017],
];
const USER_NAMES = new Map<number | null, string>([[PROMETHEUS, 'prometheus'], [BACULA, 'bacula'], [APP, 'app']]);

function sh(command: string, args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}
const labNamespaces = (): string[] => sh('ip', ['netns', 'list']).stdout.split('\n').map((l) => l.split(' ')[0] as string).filter((n) => n.startsWith(`pal-${LAB}-`));
const passwd = (): Set<string> => new Set(sh('getent', ['passwd']).stdout.split('\n').map((l) => l.split(':')[0] as string));

describe('audit mode end to end on the shop lab: flows, impact, suggest, enforce, probe', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'pal-audit-lab-'));
  const traffic = new LabTraffic();
  const usersBefore = passwd();
  const file = (name: string): string => join(dir, name);
  /** A palisade.yaml naming these policy files, the shop's roles/ (AFW import), inventory and dns. */
  const config = (name: string, policies: string[]): string => {
    const path = file(name);
    writeFileSync(path, JSON.stringify({ policy: [...policies, join(SHOP, 'roles')], inventory: join(SHOP, 'inventory.yaml'), dns: join(SHOP, 'dns.yaml') }));
    return path;
  };
  let state: LabState | null = null;
  const ns = (host: string): string => state?.hosts.find((h) => h.host === host)?.namespace as string;

  const doc = parseDocument(readFileSync(join(SHOP, 'policy.yaml'), 'utf8'));
  for (const name of FORGOTTEN_RULES) assert.ok(doc.deleteIn(['rules', name]), `the example has no rule "${name}"`);
  doc.setIn(['settings', 'mode'], 'audit');
  const auditText = String(doc);
  writeFileSync(file('audit.yaml'), auditText);
  writeFileSync(file('enforced.yaml'), auditText.replace(/^  mode: audit$/m, '  mode: enforce'));
  const auditConfig = config('audit-palisade.yaml', [file('audit.yaml')]);
  const mergedConfig = config('merged-palisade.yaml', [file('audit.yaml'), file('suggested.yaml')]);
  const enforcedConfig = config('enforced-palisade.yaml', [file('enforced.yaml'), file('suggested.yaml')]);
  /** The example minus the two rules, enforced (explain under the audit policy says ALLOWED: audit accepts). */
  const baseConfig = config('base-palisade.yaml', [file('enforced.yaml')]);

  before(async () => {
    await runCli(['lab', 'down', '--lab', LAB]);
  });

  after(async () => {
    await traffic.stopAll();
    const down = await runCli(['lab', 'down', '--lab', LAB]);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(labNamespaces(), []);
    assert.deepEqual(await usersLeftBehind(LAB, [...passwd()].filter((u) => !usersBefore.has(u))), [], 'users left behind');
  });

  it('the audit policy: the example minus the two rules, mode audit; the example had them (sanity)', async () => {
    assert.match(auditText, /^settings:\n(?:.*\n)*?  mode: audit$/m);
    for (const name of FORGOTTEN_RULES) assert.doesNotMatch(auditText, new RegExp(`^  ${name}:`, 'm'));
    assert.match(readFileSync(file('enforced.yaml'), 'utf8'), /^  mode: enforce$/m);
    const check = await runCli(['check', '--config', auditConfig]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
  });

  it('lab up on the example inventory, lab apply of the audit policy (nft)', async () => {
    const up = await runCli(['lab', 'up', '--lab', LAB, '--config', auditConfig]);
    assert.equal(up.code, 0, up.stderr);
    state = await readState(LAB);
    assert.equal(state?.hosts.length, 18);
    const applied = await runCli(['lab', 'apply', '--lab', LAB, '--config', auditConfig, '--backend', 'nft']);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(sh('ip', ['netns', 'exec', ns('api-1'), 'nft', 'list', 'table', 'inet', 'palisade']).stdout, /log prefix "AUDIT_PAL_INPUT" group 7/);
  });

  it('audit mode lets the forgotten flows through as their users and `lab audit` records them; `flows --lab` lists them with host names', async () => {
    const audit = await runCli(['lab', 'audit', '--lab', LAB]);
    assert.equal(audit.code, 0, audit.stderr);
    assert.match(audit.stderr, new RegExp(`ulogd2 collects audit records in 18 namespaces; read them with \`palisade flows --lab ${LAB}\``));
    for (const h of inventory.hosts) assert.match(sh('ip', ['netns', 'pids', ns(h.name)]).stdout, /^\d+$/m, `ulogd2 runs in ${h.name}'s namespace`);
    const again = await runCli(['lab', 'audit', '--lab', LAB]);
    assert.match(again.stderr, /\(18 already were\)/, 'a second lab audit starts no second ulogd2');
    await traffic.serve(inventory.hosts.map((h) => ns(h.name)), [9100, 27017]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const outcomes = await Promise.all([...FORGOTTEN, ...ALLOWED].map(([s, uid, d, p]) => connect(ns(s), uid, v4(d), p)));
    assert.deepEqual(
      outcomes.map((o, i) => `${[...FORGOTTEN, ...ALLOWED][i]?.join(' ')}: ${o}`),
      [...FORGOTTEN, ...ALLOWED].map((pair) => `${pair.join(' ')}: ok`),
      'audit mode accepts everything',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const out = await runCli(['flows', '--lab', LAB, '--format', 'json', '--top', '1000']);
    assert.equal(out.code, 0, out.stderr);
    writeFileSync(file('flows.json'), out.stdout);
    const flows = (JSON.parse(out.stdout) as { flows: Flow[] }).flows.filter((f) => f.protocol === 'tcp');
    const seen = new Map(flows.map((f) => [`${f.source}>${f.destination}:${f.port}`, f]));
    for (const [s, , d, p] of FORGOTTEN) {
      const flow = seen.get(`${v4(s)}>${v4(d)}:${p}`);
      assert.ok(flow !== undefined, `${s} -> ${d}:${p} logged`);
      /* Only the destination's input chain would have dropped it: the source's output allowed the user. */
      assert.deepEqual(flow.prefixes, ['AUDIT_PAL_INPUT'], `${s} -> ${d}:${p}`);
      assert.deepEqual([flow.sourceHost, flow.destinationHost], [s, d], 'host names beside the addresses');
    }
    const text = await runCli(['flows', '--lab', LAB, '--top', '1000']);
    assert.match(text.stdout, new RegExp(`^\\d+ +backup-1 \\(${v4('backup-1').replace(/\./g, '\\.')}\\) +mongodb-shop-1 \\(${v4('mongodb-shop-1').replace(/\./g, '\\.')}\\) +tcp/27017 `, 'm'));
    for (const [s, , d, p] of ALLOWED) assert.ok(!seen.has(`${v4(s)}>${v4(d)}:${p}`), `${s} -> ${d}:${p} is allowed, not logged`);
    assert.deepEqual(flows.filter((f) => !FORGOTTEN.some(([s, , d, p]) => f.source === v4(s) && f.destination === v4(d) && f.port === p)), [], 'no other TCP flow logged');
  });

  it('`impact` with the audit policy as it is lists the forgotten flows by roles and exits 3', async () => {
    const out = await runCli(['impact', '--config', auditConfig, '--flows', file('flows.json')]);
    assert.equal(out.code, 3, out.stdout + out.stderr);
    const roles = [...new Set(inventory.hosts.filter((h) => h.name !== 'mon-1').flatMap((h) => h.roles))].sort();
    for (const role of roles) assert.match(out.stdout, new RegExp(`^  roles:monitoring -> roles:${role} tcp/9100: `, 'm'), out.stdout);
    assert.match(out.stdout, /^  roles:backup -> roles:mongodb tcp\/27017: 3 flow\(s\), \d+ record\(s\), 4 host\(s\) \(backup-1 -> mongodb-blog-1, mongodb-s1, mongodb-shop-1\)$/m);
    assert.match(out.stdout, new RegExp(`^${FORGOTTEN.length} of \\d+ flow\\(s\\) would be cut, in ${roles.length + 1} group\\(s\\):$`, 'm'));
    assert.match(out.stdout, /^    dropped in on mongodb-s1: /m);
    assert.doesNotMatch(out.stdout, /dropped out on/, 'only the inbound side was forgotten');
  });

  it('`suggest` writes inbound rules that `check` accepts and that make `impact` clean', async () => {
    const out = await runCli(['suggest', '--config', auditConfig, '--flows', file('flows.json'), '--out', file('suggested.yaml')]);
    assert.equal(out.code, 0, out.stderr);
    const suggested = readFileSync(file('suggested.yaml'), 'utf8');
    process.stderr.write(`--- suggested.yaml ---\n${suggested}--- end ---\n`);
    const rules = Object.values((parse(suggested) as { rules: Record<string, Record<string, unknown>> }).rules);
    assert.ok(rules.every((r) => r.direction === 'in' && r.protocol === 'tcp' && r.user === undefined), 'inbound rules only');
    assert.deepEqual(
      rules.filter((r) => r.dport === 27017),
      [{ on: 'roles:mongodb', direction: 'in', protocol: 'tcp', source: ['roles:backup'], dport: 27017, options: ['disable_env_limit'] }],
    );
    const scraped = rules.filter((r) => r.dport === 9100);
    assert.ok(scraped.every((r) => JSON.stringify(r.source) === '["roles:monitoring"]'), JSON.stringify(scraped));
    assert.equal(scraped.length + 1, rules.length);
    const check = await runCli(['check', '--config', mergedConfig]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const clean = await runCli(['impact', '--config', mergedConfig, '--flows', file('flows.json')]);
    assert.equal(clean.code, 0, clean.stdout);
    assert.match(clean.stdout, /^clean: none of the \d+ flow\(s\) would be cut$/m);
  });

  it('enforced with the suggestions: the forgotten flows connect, the unused pairs stay closed, lab probe agrees with explain', async () => {
    const applied = await runCli(['lab', 'apply', '--lab', LAB, '--config', enforcedConfig, '--backend', 'nft']);
    assert.equal(applied.code, 0, applied.stderr);
    assert.doesNotMatch(sh('ip', ['netns', 'exec', ns('api-1'), 'nft', 'list', 'table', 'inet', 'palisade']).stdout, /AUDIT_PAL/);
    const pass = await Promise.all([...FORGOTTEN, ...ALLOWED].map(([s, uid, d, p]) => connect(ns(s), uid, v4(d), p)));
    assert.deepEqual(pass, pass.map(() => 'ok'));
    const closed = await Promise.all(UNUSED.map(([s, uid, d, p]) => connect(ns(s), uid, v4(d), p)));
    assert.deepEqual(
      closed.map((o, i) => `${UNUSED[i]?.join(' ')}: ${o}`),
      UNUSED.map((pair) => `${pair.join(' ')}: timeout`),
    );
    /* The probe agents listen on the probed ports themselves. */
    await traffic.stopListeners();
    const probe = await runCli(['lab', 'probe', '--lab', LAB, '--config', enforcedConfig, '--format', 'json']);
    const report = JSON.parse(probe.stdout) as ProbeReport;
    const mismatches = report.results.filter((r) => r.mismatch).map((r) => `${r.source}->${r.destination} ${r.protocol}/${r.port} v${r.family} ${r.user}: ${r.outcome}`);
    assert.deepEqual(mismatches, []);
    assert.equal(probe.code, 0, probe.stderr);
    const probed = (s: string, user: string | null, d: string, port: number) =>
      report.results.filter((r) => r.source === s && r.destination === d && r.port === port && r.protocol === 'tcp' && r.user === user && r.family === 4).map((r) => r.passed);
    for (const [s, uid, d, p] of FORGOTTEN) assert.deepEqual(probed(s, USER_NAMES.get(uid) ?? null, d, p), [true], `probe ${s} -> ${d}:${p}`);
    for (const [s, uid, d, p] of UNUSED) assert.ok(!probed(s, USER_NAMES.get(uid) ?? null, d, p).includes(true), `probe ${s} -> ${d}:${p}`);
    for (const [s, uid, d, p] of UNUSED) {
      for (const cfg of [baseConfig, enforcedConfig]) {
        const user = USER_NAMES.get(uid);
        const out = await runCli(['explain', s, d, String(p), '--config', cfg, '--family', '4', '--format', 'json', ...(user === undefined ? [] : ['--user', user])]);
        assert.equal(out.code, 0, out.stderr);
        assert.equal((JSON.parse(out.stdout) as { allowed: boolean }).allowed, false, `${s} -> ${d}:${p} under ${cfg}`);
      }
    }
  });
});
