/**
 * The namespace lab on small inline policies and inventories, both backends: each scenario's probes agree
 * with explain, and the flows that prove the feature pass or are stopped on the real kernel.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withLabLock } from '../../src/lab/lock.ts';
import type { ProbeReport } from '../../src/lab/probe.ts';
import type { ProbeResult } from '../../src/lab/probe-run.ts';
import { readState, statePath } from '../../src/lab/state.ts';
import { runCli } from '../helpers/cli.ts';
import { uniqueLab, usersLeftBehind } from '../helpers/lab.ts';

const skip = process.getuid?.() === 0 ? false : 'needs root to create network namespaces';
const LAB = uniqueLab('sc');

const INVENTORY = `
hosts:
  - name: web-1
    environment: production
    roles: [web]
    tags: [shop]
    interfaces: { eth0: [10.30.0.11, "2001:db8:30::11"] }
    lan: eth0
    users: { root: 0, www-data: 33 }
  - name: web-2
    environment: production
    roles: [web]
    tags: [blog]
    interfaces: { eth0: [10.30.0.12, "2001:db8:30::12"] }
    lan: eth0
    users: { root: 0, www-data: 33 }
  - name: db-1
    environment: production
    roles: [db]
    tags: [shop]
    interfaces: { eth0: [10.30.0.21, "2001:db8:30::21"], eth1: [10.31.0.21] }
    lan: eth0
    users: { root: 0, palsvc: 4301 }
  - name: web-s
    environment: staging
    roles: [web]
    tags: [shop]
    interfaces: { eth0: [10.40.0.11, "2001:db8:40::11"] }
    lan: eth0
    users: { root: 0, www-data: 33 }
  - name: ext-1
    environment: production
    roles: [external]
    interfaces: { eth0: [192.0.2.10] }
    lan: eth0
    users: { root: 0, backup: 4302 }
`;

const DNS = `hosts:\n  web-s.example.test: [10.40.0.11, "2001:db8:40::11"]\n`;

const ISOLATION = `
settings: { failsafe: { in: [], out: [] } }
rules:
  Same tag only:
    on: roles:db
    direction: in
    protocol: tcp
    source: roles:web AND SAMETAG
    dport: 5432
  Any environment:
    on: roles:db
    direction: in
    protocol: tcp
    source: roles:web
    dport: 5433
    options: [disable_env_limit]
  Own environment:
    on: roles:db
    direction: in
    protocol: tcp
    source: roles:web
    dport: 5434
  A query that selects nobody:
    on: roles:db
    direction: in
    protocol: tcp
    source: roles:nothing
    dport: 6000
`;

const ADDRESSES = `
settings: { failsafe: { in: [], out: [] } }
rules:
  CIDR:
    on: roles:db
    direction: in
    protocol: tcp
    source: 10.30.0.0/28
    dport: 7000
  FQDN:
    on: roles:db
    direction: in
    protocol: tcp
    source: web-s.example.test
    dport: 7001
  IPv6 only:
    on: roles:db
    direction: in
    protocol: tcp
    source: "2001:db8:30::11"
    dport: 7002
  Ranges and lists:
    on: roles:db
    direction: in
    protocol: tcp
    source: roles:web
    dport: ["8000:8002", 8080, 8443]
  UDP:
    on: roles:db
    direction: in
    protocol: udp
    source: roles:web
    dport: 5353
  Ping:
    on: roles:db
    direction: in
    protocol: icmp
    source: roles:web
  Ping6:
    on: roles:db
    direction: in
    protocol: icmpv6
    source: roles:web
`;

const OUTBOUND = `
settings:
  output_drop: true
  failsafe:
    in: [{ protocol: tcp, dport: 22 }]
    out: [{ protocol: tcp, dport: 22 }]
rules:
  DB in:
    on: roles:db
    direction: in
    protocol: tcp
    source: "*:*"
    dport: 5432
  Web to DB as www-data:
    on: roles:web
    direction: out
    protocol: tcp
    user: www-data
    destination: roles:db
    dport: 5432
  Backup to DB:
    on: roles:external
    direction: out
    protocol: tcp
    user: backup
    destination: roles:db
    dport: 5432
  Anyone to the raw port:
    direction: out
    protocol: tcp
    destination: roles:db
    dport: 9999
raw:
  Rules that say otherwise about ssh:
    on: roles:db
    nft: "add rule inet palisade input tcp dport 22 drop"
    iptables: { table: filter, rule: "-A INPUT -p tcp --dport 22 -j DROP" }
  Open 9999 raw:
    on: roles:db
    nft: "add rule inet palisade input tcp dport 9999 accept"
    iptables: { table: filter, rule: "-A INPUT -p tcp --dport 9999 -j ACCEPT" }
`;

const REJECT = `
settings: { failsafe: { in: [], out: [] }, default_action: reject }
rules:
  DB from the web:
    on: roles:db
    direction: in
    protocol: tcp
    source: roles:web
    dport: 5432
  DNS from the web:
    on: roles:db
    direction: in
    protocol: udp
    source: roles:web
    dport: 5353
  Ping from web-2:
    on: roles:db
    direction: in
    protocol: icmp
    source: name:web-2
  Ping6 from web-1:
    on: roles:db
    direction: in
    protocol: icmpv6
    source: name:web-1
  Not the staging web:
    on: roles:db
    order: 10
    action: drop
    direction: in
    protocol: all
    source: name:web-s
    options: [disable_env_limit]
`;

function labNamespaces(): string[] {
  return spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0] as string).filter((n) => n.startsWith(`pal-${LAB}-`));
}

const uidOf = (name: string): string | undefined => spawnSync('getent', ['passwd', name], { encoding: 'utf8' }).stdout.split(':')[2];

describe('lab scenarios', { skip }, () => {
  let dir = '';
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const backupUid = uidOf('backup');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pal-lab-'));
    await runCli(['lab', 'down', '--lab', LAB]);
    const up = await runCli(['lab', 'up', '--lab', LAB, '--inventory', file('inventory.yaml', INVENTORY)]);
    assert.equal(up.code, 0, up.stderr);
  });

  after(async () => {
    const created = (await readState(LAB))?.users.map((u) => u.name) ?? [];
    const down = await runCli(['lab', 'down', '--lab', LAB]);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(labNamespaces(), []);
    assert.equal(existsSync(statePath(LAB)), false);
    assert.deepEqual(await usersLeftBehind(LAB, created), [], 'users left behind');
    assert.equal(uidOf('backup'), backupUid, "the system's own user is untouched");
  });

  it('creates the missing users and skips, unchanged, one whose name has another uid', async () => {
    const state = await readState(LAB);
    assert.deepEqual(state?.users, [{ name: 'palsvc', uid: 4301 }]);
    assert.deepEqual(state?.skippedUsers.map((u) => [u.name, u.reason]), [['backup', `user backup exists with uid ${backupUid}`]]);
  });

  const probeArgs = (policy: string, backend: 'nft' | 'iptables', ...more: string[]): string[] => [
    ...['lab', 'probe', '--lab', LAB, '--backend', backend, '--format', 'json', '--no-resolve'],
    ...['--inventory', join(dir, 'inventory.yaml'), '--dns', file('dns.yaml', DNS), '--policy', file(`policy-${backend}.yaml`, policy), ...more],
  ];

  async function probe(policy: string, backend: 'nft' | 'iptables', ...more: string[]): Promise<ProbeReport> {
    const r = await runCli(probeArgs(policy, backend, ...more));
    const report = JSON.parse(r.stdout) as ProbeReport;
    const mismatches = report.results.filter((x) => x.mismatch).map((x) => `${x.source}->${x.destination} ${x.protocol}/${x.port} v${x.family} ${x.user}: ${x.outcome}`);
    assert.deepEqual(mismatches, []);
    assert.equal(r.code, 0, r.stderr);
    return report;
  }

  /** What the kernel did with the probes of one flow, by family: { 4: 'reject', 6: 'drop' }. */
  function observed(report: ProbeReport, source: string, destination: string, protocol: ProbeResult['protocol'], port: number | null): Record<number, string | null> {
    const found = report.results.filter((r) => r.source === source && r.destination === destination && r.protocol === protocol && r.port === port && r.user === null);
    assert.ok(found.length > 0, `no probe ${source} -> ${destination} ${protocol}/${port}`);
    return Object.fromEntries(found.map((r) => [r.family, r.observed]));
  }

  /** `passed` of the probes of one flow, by family: { 4: true, 6: false }. */
  function flow(report: ProbeReport, source: string, destination: string, protocol: ProbeResult['protocol'], port: number | null, user: string | null = null): Record<number, boolean> {
    const found = report.results.filter((r) => r.source === source && r.destination === destination && r.protocol === protocol && r.port === port && r.user === user);
    assert.ok(found.length > 0, `no probe ${source} -> ${destination} ${protocol}/${port} as ${user}`);
    return Object.fromEntries(found.map((r) => [r.family, r.passed]));
  }

  for (const backend of ['nft', 'iptables'] as const) {
    it(`${backend}: SAMETAG, environment limits, disable_env_limit, a query selecting nobody`, async () => {
      const r = await probe(ISOLATION, backend);
      assert.deepEqual(flow(r, 'web-1', 'db-1', 'tcp', 5432), { 4: true, 6: true });
      assert.deepEqual(flow(r, 'web-2', 'db-1', 'tcp', 5432), { 4: false, 6: false });
      assert.deepEqual(flow(r, 'web-s', 'db-1', 'tcp', 5432), { 4: false, 6: false });
      assert.deepEqual(flow(r, 'web-s', 'db-1', 'tcp', 5433), { 4: true, 6: true });
      assert.deepEqual(flow(r, 'web-2', 'db-1', 'tcp', 5434), { 4: true, 6: true });
      assert.deepEqual(flow(r, 'web-s', 'db-1', 'tcp', 5434), { 4: false, 6: false });
      for (const source of ['web-1', 'web-2', 'web-s', 'ext-1']) assert.ok(Object.values(flow(r, source, 'db-1', 'tcp', 6000)).every((p) => !p));
      /* No failsafe: ssh is closed too. */
      assert.deepEqual(flow(r, 'web-1', 'db-1', 'tcp', 9), { 4: false, 6: false });
    });

    it(`${backend}: CIDR and FQDN sources, IPv6, port ranges and lists, UDP, ICMP and ICMPv6`, async () => {
      const r = await probe(ADDRESSES, backend, '--port', '7999', '8003/tcp');
      assert.deepEqual(flow(r, 'web-2', 'db-1', 'tcp', 7000), { 4: true, 6: false });
      assert.deepEqual(flow(r, 'ext-1', 'db-1', 'tcp', 7000), { 4: false });
      assert.deepEqual(flow(r, 'web-s', 'db-1', 'tcp', 7001), { 4: true, 6: true });
      assert.deepEqual(flow(r, 'web-1', 'db-1', 'tcp', 7001), { 4: false, 6: false });
      assert.deepEqual(flow(r, 'web-1', 'db-1', 'tcp', 7002), { 4: false, 6: true });
      for (const port of [8000, 8002, 8080, 8443]) assert.deepEqual(flow(r, 'web-s', 'db-1', 'tcp', port), { 4: false, 6: false });
      for (const port of [8000, 8002, 8080, 8443]) assert.deepEqual(flow(r, 'web-1', 'db-1', 'tcp', port), { 4: true, 6: true }, `port ${port}`);
      for (const port of [7999, 8003]) assert.deepEqual(flow(r, 'web-1', 'db-1', 'tcp', port), { 4: false, 6: false }, `port ${port}`);
      assert.deepEqual(flow(r, 'web-1', 'db-1', 'udp', 5353), { 4: true, 6: true });
      assert.deepEqual(flow(r, 'ext-1', 'db-1', 'udp', 5353), { 4: false });
      assert.deepEqual(flow(r, 'web-1', 'db-1', 'icmp', null), { 4: true });
      assert.deepEqual(flow(r, 'ext-1', 'db-1', 'icmp', null), { 4: false });
      assert.deepEqual(flow(r, 'web-2', 'db-1', 'icmpv6', null), { 6: true });
    });

    it(`${backend}: outbound per user with output_drop, the failsafe against raw rules, raw rules`, async () => {
      const r = await probe(OUTBOUND, backend, '--port', '9999');
      assert.deepEqual(flow(r, 'web-1', 'db-1', 'tcp', 5432, 'www-data'), { 4: true, 6: true });
      assert.deepEqual(flow(r, 'web-1', 'db-1', 'tcp', 5432, null), { 4: false, 6: false });
      /* Stopped on the way out, by web-1's own output chain. */
      const out = r.counters.find((c) => c.host === 'web-1')?.chains.find((c) => c.prefix === 'DROP_PAL_OUTPUT');
      assert.ok(out !== undefined && out.packets > 0 && out.logged > 0, JSON.stringify(out));
      assert.ok(!r.results.some((x) => x.user === 'backup'));
      assert.ok(r.notes.some((n) => n.includes('backup')));
      /* The failsafe comes before the raw drop of tcp/22: ssh stays open both ways, everywhere. */
      for (const source of ['web-1', 'web-s', 'ext-1']) assert.equal(flow(r, source, 'db-1', 'tcp', 22)[4], true, source);
      /* Explain does not evaluate raw rules: the kernel's answer is reported, not counted as a mismatch. */
      const raw = r.results.find((x) => x.source === 'web-1' && x.destination === 'db-1' && x.port === 9999 && x.family === 4);
      assert.deepEqual([raw?.passed, raw?.predicted, raw?.unverified], [true, false, true]);
      assert.deepEqual(flow(r, 'db-1', 'web-1', 'tcp', 9999), { 4: false, 6: false });
    });

    it(`${backend}: a reject is seen as a refusal (TCP reset, ICMP unreachable), a drop as a timeout, as explain says`, async () => {
      const r = await probe(REJECT, backend);
      assert.deepEqual(observed(r, 'web-1', 'db-1', 'tcp', 5432), { 4: 'accept', 6: 'accept' });
      assert.deepEqual(observed(r, 'web-1', 'db-1', 'udp', 5353), { 4: 'accept', 6: 'accept' });
      assert.deepEqual(observed(r, 'ext-1', 'db-1', 'tcp', 5432), { 4: 'reject' }, 'the default rejects: TCP reset');
      assert.deepEqual(observed(r, 'ext-1', 'db-1', 'udp', 5353), { 4: 'reject' }, 'ICMP administratively prohibited');
      assert.deepEqual(observed(r, 'web-2', 'db-1', 'icmp', null), { 4: 'accept' });
      assert.deepEqual(observed(r, 'web-1', 'db-1', 'icmp', null), { 4: 'reject' }, 'ping: an ICMP error, not a lost echo');
      assert.deepEqual(observed(r, 'web-1', 'db-1', 'icmpv6', null), { 6: 'accept' });
      assert.deepEqual(observed(r, 'web-2', 'db-1', 'icmpv6', null), { 6: 'reject' });
      assert.deepEqual(observed(r, 'web-s', 'db-1', 'icmp', null), { 4: 'drop' });
      assert.deepEqual(observed(r, 'web-s', 'db-1', 'tcp', 5432), { 4: 'drop', 6: 'drop' }, 'the ordered drop: a timeout');
      assert.deepEqual(observed(r, 'web-s', 'db-1', 'udp', 5353), { 4: 'drop', 6: 'drop' });
      const rejected = r.results.find((x) => x.source === 'ext-1' && x.destination === 'db-1' && x.port === 5432);
      assert.equal(rejected?.decision, 'reject');
      assert.match(rejected?.reasons.join('\n') ?? '', /in on db-1: rejected by the default policy/);
      const counted = r.counters.find((c) => c.host === 'db-1')?.chains.find((c) => c.chain === (backend === 'nft' ? 'input' : 'PALISADE-INPUT'));
      assert.ok(counted !== undefined && counted.rejected > 0 && counted.packets > 0, JSON.stringify(counted));
    });
  }

  it('a reject where explain says drop, or the reverse, is a mismatch (exit 3)', async () => {
    const db = (await readState(LAB))?.hosts.find((h) => h.host === 'db-1')?.namespace as string;
    const nft = (script: string): void => assert.equal(spawnSync('ip', ['netns', 'exec', db, 'nft', '-f', '-'], { input: script }).status, 0);
    nft('table inet intruder {\n chain input {\n  type filter hook input priority -10; policy accept;\n  tcp dport 5432 ip saddr 192.0.2.10 drop\n }\n}\n');
    try {
      const r = await runCli(probeArgs(REJECT, 'nft'));
      assert.equal(r.code, 3, r.stderr);
      const report = JSON.parse(r.stdout) as ProbeReport;
      assert.deepEqual(
        report.results.filter((x) => x.mismatch).map((x) => [x.source, x.destination, x.port, x.decision, x.observed, x.outcome]),
        [['ext-1', 'db-1', 5432, 'reject', 'drop', 'timeout']],
      );
      const text = await runCli([...probeArgs(REJECT, 'nft').filter((a) => a !== '--format' && a !== 'json')]);
      assert.match(text.stdout, /MISMATCH ext-1 \(192\.0\.2\.10\) -> db-1 \(10\.30\.0\.21\) tcp\/5432 as uid \d+: explain says rejected \(refused at once\), the kernel: timeout/);
    } finally {
      nft('delete table inet intruder\n');
    }
  });

  it('a lab another command is working on is refused at once, naming that command', async () => {
    await withLabLock(LAB, async () => {
      const r = await runCli(probeArgs(ISOLATION, 'nft'));
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`lab ${LAB} is in use by another palisade \\(pid ${process.pid}: palisade[^)]*\\)`));
    });
  });

  it('a probe port already in use: exit 1 naming the host, its namespace, the address and the port', async () => {
    const db = (await readState(LAB))?.hosts.find((h) => h.host === 'db-1')?.namespace as string;
    const holder = spawn('ip', ['netns', 'exec', db, process.execPath, '-e', "require('net').createServer().listen(5432, '10.30.0.21', () => console.log('up'))"], { stdio: ['ignore', 'pipe', 'inherit'] });
    const gone = once(holder, 'exit');
    try {
      await once(holder.stdout, 'data');
      const r = await runCli(probeArgs(ISOLATION, 'nft'));
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`cannot probe tcp \\[10\\.30\\.0\\.21\\]:5432 on host db-1 \\(namespace ${db}\\): the port is already in use`));
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    } finally {
      holder.kill('SIGKILL');
      await gone;
    }
  });

  it('the kernel disagreeing with explain (another tool drops tcp/5433 on db-1): exit 3, the mismatches listed', async () => {
    const db = (await readState(LAB))?.hosts.find((h) => h.host === 'db-1')?.namespace as string;
    const nft = (script: string): void => assert.equal(spawnSync('ip', ['netns', 'exec', db, 'nft', '-f', '-'], { input: script }).status, 0);
    nft('table inet intruder {\n chain input {\n  type filter hook input priority 10; policy accept;\n  tcp dport 5433 drop\n }\n}\n');
    try {
      const r = await runCli(probeArgs(ISOLATION, 'nft'));
      assert.equal(r.code, 3, r.stderr);
      const report = JSON.parse(r.stdout) as ProbeReport;
      assert.ok(report.summary.mismatches > 0);
      assert.ok(report.results.filter((x) => x.mismatch).every((x) => x.destination === 'db-1' && x.port === 5433));
    } finally {
      nft('delete table inet intruder\n');
    }
  });
});

describe('two labs sharing a user', { skip }, () => {
  const [first, second] = [uniqueLab('usa'), uniqueLab('usb')];
  const inventory = `hosts:\n  - name: solo\n    interfaces: { eth0: [10.32.0.1] }\n    users: { palshared: 4303 }\n`;
  let dir = '';

  after(async () => {
    for (const lab of [first, second]) await runCli(['lab', 'down', '--lab', lab]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('the first lab down keeps the user the second still uses; the last one removes it', async () => {
    dir = mkdtempSync(join(tmpdir(), 'pal-lab-users-'));
    const path = join(dir, 'inventory.yaml');
    writeFileSync(path, inventory);
    for (const lab of [first, second]) {
      const up = await runCli(['lab', 'up', '--lab', lab, '--inventory', path]);
      assert.equal(up.code, 0, up.stderr);
      assert.deepEqual((await readState(lab))?.users, [{ name: 'palshared', uid: 4303 }]);
    }
    const down = await runCli(['lab', 'down', '--lab', first]);
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stderr, new RegExp(`kept users palshared \\(held by lab [^)]*${second}`));
    assert.equal(uidOf('palshared'), '4303', 'the second lab still has its user');
    const last = await runCli(['lab', 'down', '--lab', second]);
    assert.equal(last.code, 0, last.stderr);
    assert.deepEqual(await usersLeftBehind(second, ['palshared']), []);
  });
});
