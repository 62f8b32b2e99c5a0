/**
 * Raw iptables rules of the nat and raw tables on the nft backend: `palisade compile` translates them with
 * iptables-translate into chains of palisade's own table, and the kernel does what the iptables rule says: a
 * PREROUTING REDIRECT really sends a client's TCP connection to another port. A rule iptables-translate cannot
 * translate is an error naming the rule's file:line in check and compile, never a silent skip.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { run, skipUnlessRoot } from '../helpers/netns.ts';

const id = randomBytes(3).toString('hex');
const NS = { srv: `p2ts-${id}`, cli: `p2tc-${id}` };
const IF = { srv: `p2ts1-${id}`, cli: `p2tc1-${id}` };
const PEER = 'test/e2e/fixtures/policy-v2-peer.mjs';
const TIMEOUT_MS = 1500;
const skip = skipUnlessRoot !== false ? skipUnlessRoot : spawnSync('iptables-restore-translate', ['-V']).status !== 0 ? 'needs iptables-restore-translate (Debian iptables)' : false;

const INVENTORY = `
hosts:
  - { name: srv, environment: e2e, roles: [server], interfaces: { ${IF.srv}: [10.78.1.1] }, lan: ${IF.srv}, users: { root: 0 } }
  - { name: cli, environment: e2e, roles: [client], interfaces: { ${IF.cli}: [10.78.1.2] }, lan: ${IF.cli}, users: { root: 0 } }
`;

const POLICY = `
rules:
  Web from clients:
    on: roles:server
    direction: in
    protocol: tcp
    source: roles:client
    dport: 18080
raw:
  Old port to the new one:
    on: roles:server
    iptables: { table: nat, rule: "-A PREROUTING -i ${IF.srv} -p tcp --dport 18081 -m comment --comment \\"moved to 18080\\" -j REDIRECT --to-ports 18080" }
  No conntrack for the metrics port:
    on: roles:server
    iptables: { table: raw, rule: "-A PREROUTING -p udp --dport 18125 -j NOTRACK" }
`;

const UNTRANSLATABLE = `
raw:
  Bridged traffic:
    iptables: { table: filter, rule: "-A FORWARD -o br0 -m physdev --physdev-is-bridged -j ACCEPT" }
`;

const inNs = (ns: string, command: string, args: readonly string[]): ReturnType<typeof spawnSync> =>
  spawnSync('nsenter', [`--net=/run/netns/${ns}`, command, ...args], { encoding: 'utf8' });
const connect = (port: number): string => {
  const r = inNs(NS.cli, process.execPath, [PEER, 'connect', '10.78.1.1', String(port), String(TIMEOUT_MS)]);
  assert.equal(r.status, 0, String(r.stderr));
  return String(r.stdout).trim();
};

describe('raw nat and raw-table rules on the nft backend', { skip }, () => {
  let dir = '';
  let listener: ChildProcess | null = null;
  const flags = (): string[] => ['--policy', join(dir, 'policy.yaml'), '--inventory', join(dir, 'inventory.yaml'), '--no-resolve'];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pal-translate-'));
    writeFileSync(join(dir, 'policy.yaml'), POLICY);
    writeFileSync(join(dir, 'inventory.yaml'), INVENTORY);
    writeFileSync(join(dir, 'bad.yaml'), UNTRANSLATABLE);
    for (const ns of Object.values(NS)) run('ip', ['netns', 'add', ns]);
    run('ip', ['link', 'add', IF.srv, 'netns', NS.srv, 'type', 'veth', 'peer', 'name', IF.cli, 'netns', NS.cli]);
    for (const [ns, dev, address] of [
      [NS.srv, IF.srv, '10.78.1.1/24'],
      [NS.cli, IF.cli, '10.78.1.2/24'],
    ] as const) {
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      run('ip', ['-n', ns, 'addr', 'add', address, 'dev', dev]);
      run('ip', ['-n', ns, 'link', 'set', dev, 'up']);
    }
    listener = spawn('nsenter', [`--net=/run/netns/${NS.srv}`, process.execPath, PEER, 'listen', '18080'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(listener.stdout as NodeJS.ReadableStream, 'data');
  });

  after(() => {
    listener?.kill();
    for (const ns of Object.values(NS)) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('without the ruleset the old port is closed', () => {
    assert.equal(connect(18080), 'open');
    assert.equal(connect(18081), 'refused');
  });

  it('compile translates the rules into nat and raw chains with their hook and priority; the REDIRECT moves a real connection', async () => {
    const compiled = await runCli(['compile', '--host', 'srv', ...flags()]);
    assert.equal(compiled.code, 0, compiled.stderr);
    assert.doesNotMatch(compiled.stderr, /skips it/);
    assert.match(compiled.stdout, /chain nat_prerouting \{\n\t\ttype nat hook prerouting priority -100; policy accept;\n\t\tmeta nfproto ipv4 iifname "[^"]+" tcp dport 18081 counter redirect to :18080 comment "moved to 18080"\n/);
    assert.match(compiled.stdout, /chain raw_prerouting \{\n\t\ttype filter hook prerouting priority -300; policy accept;\n\t\tmeta nfproto ipv4 udp dport 18125 counter notrack\n/);
    const script = join(dir, 'srv.nft');
    writeFileSync(script, compiled.stdout);
    const loaded = inNs(NS.srv, 'nft', ['-f', script]);
    assert.equal(loaded.status, 0, String(loaded.stderr));
    assert.equal(connect(18081), 'open', 'redirected to the listener on 18080');
    const listed = String(inNs(NS.srv, 'nft', ['list', 'chain', 'inet', 'palisade', 'nat_prerouting']).stdout);
    assert.match(listed, /counter packets [1-9]\d* bytes \d+ redirect to :18080/);
    assert.equal(connect(18082), 'timeout', 'the filter rules still decide the rest');
  });

  it('the iptables backend keeps the rules as written', async () => {
    const compiled = await runCli(['compile', '--host', 'srv', '--format', 'iptables', ...flags()]);
    assert.equal(compiled.code, 0, compiled.stderr);
    assert.match(compiled.stdout, /\*nat\n(?:.*\n)*?-A PALISADE-PREROUTING -i \S+ -p tcp --dport 18081 -m comment --comment "moved to 18080" -j REDIRECT --to-ports 18080\n/);
  });

  it('a rule iptables-translate cannot translate is an error naming it in check and compile, not on the iptables backend', async () => {
    const bad = ['--policy', join(dir, 'policy.yaml'), join(dir, 'bad.yaml'), '--inventory', join(dir, 'inventory.yaml'), '--no-resolve'];
    const message = /bad\.yaml:3:3: error: rule "Bridged traffic": no nft form, and iptables-translate cannot translate the iptables form \([^)]*\): write its nft form .* or use the iptables backend \(--backend iptables\)/;
    const check = await runCli(['check', ...bad]);
    assert.equal(check.code, 1);
    assert.match(check.stderr, message);
    const compiled = await runCli(['compile', '--host', 'cli', ...bad]);
    assert.equal(compiled.code, 1);
    assert.match(compiled.stderr, message);
    assert.equal(compiled.stdout, '');
    assert.equal((await runCli(['check', '--backend', 'iptables', ...bad])).code, 0);
    assert.equal((await runCli(['compile', '--host', 'cli', '--format', 'iptables', ...bad])).code, 0);
  });
});
