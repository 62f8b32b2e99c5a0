/**
 * Names shared by inventories and policies follow one set of rules: whatever `check` accepts compiles for
 * both backends, whatever it refuses is refused at the name's position (finding 1 of issue 10).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isValidName, nameProblem } from '../../src/inventory/names.ts';
import { checkName } from '../../src/render/escape.ts';
import { InternalError } from '../../src/diagnostics.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const dir = tempDir('palisade-names-');
let count = 0;

function file(text: string): string {
  const path = join(dir, `f${count++}.yaml`);
  writeFileSync(path, text);
  return path;
}

function inventory(host: { name?: string; environment?: string; interface?: string; user?: string } = {}): string {
  const ifname = host.interface ?? 'eth0';
  return file(
    [
      'hosts:',
      `  - name: ${JSON.stringify(host.name ?? 'web-1')}`,
      `    environment: ${JSON.stringify(host.environment ?? 'prod')}`,
      '    roles: [web]',
      `    interfaces: { ${JSON.stringify(ifname)}: [10.0.0.1], eth9: [10.0.0.9] }`,
      `    lan: ${JSON.stringify(ifname)}`,
      `    users: { ${JSON.stringify(host.user ?? 'app')}: 4200 }`,
      '  - name: db-1',
      '    environment: prod',
      '    interfaces: { eth0: [10.0.0.2] }',
      '',
    ].join('\n'),
  );
}

function policy(rule: { interface?: string; user?: string; env?: string } = {}): string {
  const lines = ['rules:', '  Web in:', '    direction: in', '    protocol: tcp', '    source: name:db-1', '    dport: 443', '    interface: lan'];
  if (rule.interface !== undefined) lines.push(`    interface: ${JSON.stringify(rule.interface)}`);
  if (rule.env !== undefined) lines.push(`    env: ${JSON.stringify(rule.env)}`);
  lines.push('  App out:', '    direction: out', '    protocol: tcp', '    destination: name:db-1', '    dport: 5432', `    user: ${JSON.stringify(rule.user ?? 'app')}`, '');
  return file(lines.join('\n').replace('    interface: lan\n    interface:', '    interface:'));
}

async function refused(args: string[], where: RegExp): Promise<void> {
  for (const command of [['check'], ['compile', '--host', 'web-1']]) {
    const r = await runCli([...command, '--no-resolve', ...args]);
    assert.equal(r.code, 1, `${command[0]} ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, where);
    assert.doesNotMatch(r.stderr, /internal error|at .*\.ts:\d+/i);
  }
}

async function accepted(args: string[]): Promise<void> {
  const check = await runCli(['check', '--no-resolve', ...args]);
  assert.equal(check.code, 0, check.stderr);
  for (const format of ['nft', 'iptables']) {
    const r = await runCli(['compile', '--host', 'web-1', '--no-resolve', '--format', format, ...args]);
    assert.equal(r.code, 0, `${format}: ${r.stderr}`);
  }
}

describe('one set of name rules', () => {
  it('interface names the kernel tools take, and nothing else', () => {
    for (const name of ['eth0', 'eth0.100', 'br-lan_1', '_x', 'enp0s31f6abcdef']) assert.ok(isValidName('interface', name), name);
    for (const name of ['eth1@x', 'eth0@if5', '-eth1', '.', '..', '', 'enp0s31f6abcdefg', 'eth 0', 'eth0:1', 'eth/0', 'eth0"']) {
      assert.ok(!isValidName('interface', name), name);
    }
    assert.match(nameProblem('interface', 'eth0@if5') ?? '', /ip link.*"eth0"/);
  });

  it('user names without $, environments without $, host names that do not read as addresses', () => {
    assert.ok(isValidName('user', 'www-data') && isValidName('user', '_apt'));
    assert.ok(!isValidName('user', 'host$') && !isValidName('user', 'a$b'));
    assert.ok(!isValidName('environment', 'prod$') && isValidName('environment', 'prod.eu-1'));
    assert.ok(!isValidName('host', '10.10.3.41') && !isValidName('host', '010.10.3.41'));
    assert.ok(isValidName('host', '10-10-3-41') && isValidName('host', 'web-1.example.net') && isValidName('host', '1234'));
  });

  it('the renderers check with the same rules, and a name that bypassed them is an internal error', () => {
    assert.equal(checkName('interface', 'eth0.100'), 'eth0.100');
    assert.throws(() => checkName('interface', 'eth1@x'), InternalError);
  });

  for (const name of ['eth1@x', '-eth1', '.', '..']) {
    it(`rule interface ${JSON.stringify(name)}: refused by check and compile at its position`, async () => {
      await refused(['--policy', policy({ interface: name }), '--inventory', inventory()], /f\d+\.yaml:7:16: error: rule "Web in": "interface": .* is not an interface name/);
    });
  }

  for (const name of ['eth0@if5', 'eth1@x', '-eth1', '.', '..']) {
    it(`inventory interface ${JSON.stringify(name)}: refused by check and compile at its position`, async () => {
      await refused(['--policy', policy(), '--inventory', inventory({ interface: name })], /f\d+\.yaml:5:\d+: error: host "web-1": invalid interface name/);
    });
  }

  it('$ in users and environments: refused in both files', async () => {
    await refused(['--policy', policy({ user: 'app$' }), '--inventory', inventory()], /error: rule "App out": "user": "app\$" is not a user name/);
    await refused(['--policy', policy(), '--inventory', inventory({ user: 'app$' })], /f\d+\.yaml:7:\d+: error: host "web-1": invalid user name "app\$"/);
    await refused(['--policy', policy({ env: 'prod$' }), '--inventory', inventory()], /error: rule "Web in": "env": "prod\$" is not an environment name/);
    await refused(['--policy', policy(), '--inventory', inventory({ environment: 'prod$' })], /f\d+\.yaml:3:\d+: error: host "web-1": invalid environment name "prod\$"/);
  });

  it('a host named like an IP address is refused', async () => {
    await refused(['--policy', policy(), '--inventory', inventory({ name: '10.10.3.41' })], /f\d+\.yaml:2:\d+: error: host "10.10.3.41": invalid host name .*reads as an IPv4 address/);
  });

  it('the edges of every rule compile for both backends', async () => {
    await accepted(['--policy', policy({ interface: 'enp0s31f6abcdef', user: '_a-b', env: 'prod' }), '--inventory', inventory({ interface: '_x.1-a', user: '_a-b' })]);
  });
});
