/**
 * The agent re-applies on its own when time or the machine changes what the ruleset holds, with no change to the
 * policy or the inventory: a rule whose `expires` instant passes leaves the kernel then; the rule of a service whose
 * unit starts (its cgroup v2 appears) is loaded. A real `palisade agent` on files, in a namespace of this run.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cgroupV2Mount } from '../../src/kernel/cgroup.ts';
import { unitCgroup } from '../helpers/unit-cgroup.ts';
import { run, skipUnlessRoot } from '../helpers/netns.ts';

const BIN = join(import.meta.dirname, '../../bin/palisade.js');
const id = randomBytes(3).toString('hex');
const NS = `p2ag-${id}`;
const UNIT = `pal-agent-${id}.service`;
const mount = cgroupV2Mount();
/** Long enough for the agent to load a changed policy on a loaded machine, short enough for a test. */
const EXPIRES_IN_MS = 15_000;

const INVENTORY = `
hosts:
  - { name: h1, environment: e2e, roles: [box], interfaces: { eth0: [10.79.0.1] }, lan: eth0, users: { root: 0 } }
`;

const TEMPORARY = (expires: string): string => `
  Temporary access:
    direction: in
    protocol: tcp
    source: 192.0.2.0/24
    dport: 8099
    expires: ${expires}
`;

const policy = (more = ''): string => `
rules:${more}
  Lasting access:
    direction: in
    protocol: tcp
    source: 192.0.2.0/24
    dport: 8098
  Unit egress:
    direction: out
    service: ${UNIT}
    protocol: tcp
    destination: 192.0.2.0/24
    dport: 8100
`;

/** nsenter keeps this machine's /sys/fs/cgroup, so nft lists a cgroup by its path. */
const listing = (): string => spawnSync('nsenter', [`--net=/run/netns/${NS}`, 'nft', 'list', 'table', 'inet', 'palisade'], { encoding: 'utf8' }).stdout;

async function until(what: string, test: () => boolean, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!test()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}; the kernel has:\n${listing()}`);
    await sleep(200);
  }
}

describe('the agent at an expiry and at a unit start', { skip: skipUnlessRoot !== false ? skipUnlessRoot : mount === null ? 'no cgroup v2 mount' : false }, () => {
  let dir = '';
  let agent: ChildProcess | null = null;
  let log = '';
  const unitGroup = unitCgroup(mount ?? '', UNIT);
  let expiresAt = 0;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pal-agent-deadlines-'));
    writeFileSync(join(dir, 'inventory.yaml'), INVENTORY);
    writeFileSync(join(dir, 'policy.yaml'), policy());
    run('ip', ['netns', 'add', NS]);
    run('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    const args = [BIN, 'agent', '--host', 'h1', '--inventory', join(dir, 'inventory.yaml'), '--policy', join(dir, 'policy.yaml'), '--netns', NS, '--state-dir', join(dir, 'state'), '--no-resolve'];
    agent = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    agent.stdout?.setEncoding('utf8').on('data', (d: string) => (log += d));
    agent.stderr?.setEncoding('utf8').on('data', (d: string) => (log += d));
  });

  after(() => {
    agent?.kill('SIGKILL');
    spawnSync('ip', ['netns', 'del', NS]);
    unitGroup.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads the policy, leaving the rule of a unit that is not running out', async () => {
    await until('the first load', () => /comment "Lasting access"/.test(listing()), 120_000);
    assert.doesNotMatch(listing(), /Unit egress/);
    await until('the warning', () => /inactive: unit pal-agent-\w+\.service is not running/.test(log), 10_000);
  });

  it('loads the service rule when the unit starts (its cgroup appears), with no other event', async () => {
    unitGroup.start();
    await until('the service chain', () => /comment "Unit egress"/.test(listing()), 30_000);
    assert.match(listing(), new RegExp(`socket cgroupv2 level 2 "[^"]*system\\.slice/${UNIT.replace(/\./g, '\\.')}"`));
  });

  it('loads it again when the unit restarts (a new cgroup the loaded rule would not match)', async () => {
    const loads = (): number => log.split('\n').filter((line) => /"mode":"full".*"msg":"ruleset applied"/.test(line)).length;
    await until('the load after the start logged', () => loads() >= 2, 10_000);
    const before = loads();
    rmdirSync(unitGroup.dir);
    mkdirSync(unitGroup.dir);
    await until('a load for the new cgroup', () => loads() > before, 30_000);
    assert.match(listing(), /comment "Unit egress"/);
  });

  it('loads a rule with an expiry, then removes it from the kernel at its instant, with no other event; the rest stays', async () => {
    expiresAt = Date.now() + EXPIRES_IN_MS;
    writeFileSync(join(dir, 'policy.yaml'), policy(TEMPORARY(new Date(expiresAt).toISOString())));
    await until('the rule with an expiry', () => /comment "Temporary access"/.test(listing()), EXPIRES_IN_MS - 1000);
    await until('the expiry', () => !/Temporary access/.test(listing()), expiresAt - Date.now() + 30_000);
    assert.ok(Date.now() >= expiresAt, `removed ${expiresAt - Date.now()} ms before its expiry`);
    assert.match(listing(), /comment "Lasting access"/);
    assert.match(listing(), /comment "Unit egress"/);
    await until('the agent saying why', () => /rule \\"Temporary access\\" expired at/.test(log), 10_000);
  });
});
