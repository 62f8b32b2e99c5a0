/** The agent on files: applies on start, on every change of a watched file, keeps the last good ruleset on invalid input. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { RecordingApplier } from '../../src/agent/applier.ts';
import { Debouncer } from '../../src/agent/debounce.ts';
import { FileAgent } from '../../src/agent/file-agent.ts';
import { interfacesFrom, usersFrom } from '../../src/agent/facts.ts';
import { createLogger, silentLogger } from '../../src/agent/logger.ts';
import type { Outcome } from '../../src/agent/loop.ts';
import { StaticResolver } from '../../src/resolve/resolver.ts';
import { POLICY } from '../helpers/fleet.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('debounce', () => {
  it('runs once per burst, at the latest maxMs after its start', async () => {
    let runs = 0;
    const d = new Debouncer(async () => void runs++, 50, 200);
    const burst = setInterval(() => d.trigger(), 10);
    /* The burst never pauses for 50 ms, so only maxMs can start this run. */
    await until('a run during the burst', () => runs === 1);
    clearInterval(burst);
    /* One more trigger, whether or not the burst's last ones came after that run: exactly one more run. */
    d.trigger();
    await d.idle();
    await sleep(100);
    assert.equal(runs, 2);
  });
});

describe('facts', () => {
  it('keeps global addresses of non-loopback interfaces, and only the wanted users', () => {
    const links = [
      { ifname: 'lo', flags: ['LOOPBACK'], addr_info: [{ local: '127.0.0.1', scope: 'host' }] },
      { ifname: 'eth0', flags: [], addr_info: [{ local: '10.0.0.1', scope: 'global' }, { local: 'fe80::1', scope: 'link' }] },
      { ifname: 'eth1', flags: [], addr_info: [] },
    ];
    assert.deepEqual(interfacesFrom(links), { eth0: ['10.0.0.1'] });
    assert.deepEqual(usersFrom('root:x:0:0::/root:/bin/sh\nwww-data:x:33:33::/:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n', new Set(['www-data', 'bob'])), { 'www-data': 33 });
  });
});

describe('file agent', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-file-agent-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('applies on start and on change; invalid input keeps the last good ruleset', async () => {
    const inventory = join(dir, 'inventory.yaml');
    const policy = join(dir, 'policy.yaml');
    const hosts = (extra: string) => `hosts:\n  - { name: web-1, roles: [web], interfaces: { eth0: [10.0.0.1] }, lan: eth0 }\n${extra}`;
    writeFileSync(policy, POLICY);
    writeFileSync(inventory, hosts(''));
    const applier = new RecordingApplier();
    const outcomes: Outcome[] = [];
    const agent = new FileAgent({
      host: 'web-1',
      config: { policy: [policy], inventory, inventoryCwd: dir, dnsHosts: {}, systemDns: false },
      applier,
      resolver: new StaticResolver({}),
      log: silentLogger(),
      report: (o) => outcomes.push(o),
      quietMs: 30,
      maxMs: 100,
    });
    const elements = () => applier.last?.sets.find((s) => s.family === 4)?.elements ?? [];
    try {
      await agent.start();
      await until('the first apply', () => elements().length === 1);
      writeFileSync(inventory, hosts('  - { name: web-2, roles: [web], interfaces: { eth0: [10.0.0.2] } }\n'));
      await until('the new host', () => elements().length === 2);
      writeFileSync(inventory, hosts('  - { name: web-3, roles: [web], interfaces: { eth0: [10.0.0.0/8] } }\n'));
      await until('the error', () => outcomes.at(-1)?.ok === false);
      assert.match((outcomes.at(-1) as { error: string }).error, /not a network/);
      assert.deepEqual(elements(), ['10.0.0.1', '10.0.0.2']);
      writeFileSync(inventory, hosts(''));
      await until('the fix', () => elements().length === 1);
    } finally {
      agent.close();
    }
  });
  it('log lines carry the host key once: a warning about another host says aboutHost', async () => {
    const inventory = join(dir, 'shared-address.yaml');
    const policy = join(dir, 'policy-log.yaml');
    writeFileSync(policy, POLICY);
    writeFileSync(inventory, 'hosts:\n  - { name: web-1, roles: [web], interfaces: { eth0: [10.0.0.1] }, lan: eth0 }\n  - { name: web-2, roles: [web], interfaces: { eth0: [10.0.0.1] } }\n');
    const lines: string[] = [];
    const log = createLogger('info', { host: 'web-1' }, { write: (line: string) => void lines.push(line) });
    const outcomes: Outcome[] = [];
    const agent = new FileAgent({
      host: 'web-1',
      config: { policy: [policy], inventory, inventoryCwd: dir, dnsHosts: {}, systemDns: false },
      applier: new RecordingApplier(),
      resolver: new StaticResolver({}),
      log,
      report: (o) => outcomes.push(o),
      quietMs: 30,
      maxMs: 100,
    });
    try {
      await agent.start();
      await until('the first outcome', () => outcomes.length > 0);
    } finally {
      agent.close();
    }
    const warning = lines.find((l) => l.includes('claimed by both'));
    assert.ok(warning !== undefined, lines.join(''));
    assert.match(warning, /"aboutHost":"web-2"/);
    for (const line of lines) assert.equal(line.match(/"host":/g)?.length, 1, line);
  });
});
