/** push, hosts put/rm, fleet status, init-auth and add-agent through the CLI, against a real etcd. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectEtcd } from '../../src/fleet/client.ts';
import { fleetKeys } from '../../src/fleet/keys.ts';
import { parseEtcdUrl } from '../../src/fleet/url.ts';
import { runCli } from '../helpers/cli.ts';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.ts';
import { POLICY } from '../helpers/fleet.ts';

describe('fleet commands', () => {
  let etcd: EtcdCluster;
  let dir: string;
  let url: string;
  const keys = fleetKeys('/palisade');

  before(async () => {
    etcd = await startEtcd();
    url = etcd.url();
    dir = mkdtempSync(join(tmpdir(), 'palisade-fleet-cli-'));
    writeFileSync(join(dir, 'policy.yaml'), POLICY);
    writeFileSync(join(dir, 'bad.yaml'), 'rules:\n  Broken:\n    direction: sideways\n');
    writeFileSync(join(dir, 'hosts.yaml'), 'hosts:\n  - { name: nas-1, roles: [web], interfaces: { eth0: [10.9.0.1] }, lan: eth0 }\n');
    writeFileSync(join(dir, 'evil.yaml'), 'hosts:\n  - { name: evil, interfaces: { eth0: [10.9.0.0/16] } }\n');
  });
  after(async () => {
    await etcd?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('registers static hosts, refuses invalid ones, removes them', async () => {
    const put = await runCli(['hosts', 'put', join(dir, 'hosts.yaml'), '--inventory', url]);
    assert.equal(put.code, 0, put.stderr);
    const evil = await runCli(['hosts', 'put', join(dir, 'evil.yaml'), '--inventory', url]);
    assert.equal(evil.code, 1);
    assert.match(evil.stderr, /not a network/);
    const clash = await runCli(['hosts', 'put', '--name', 'nas-2', '--address', '10.9.0.1', '--inventory', url]);
    assert.equal(clash.code, 1);
    assert.match(clash.stderr, /address 10\.9\.0\.1 already belongs to nas-1/);
    assert.equal((await runCli(['hosts', 'put', '--name', 'tmp', '--address', '10.9.0.7', '--inventory', url])).code, 0);
    assert.equal((await runCli(['hosts', 'rm', 'tmp', '--inventory', url])).code, 0);
    assert.equal((await runCli(['hosts', 'rm', 'tmp', '--inventory', url])).code, 1);
    const check = await runCli(['compile', '--host', 'nas-1', '--policy', join(dir, 'policy.yaml'), '--inventory', url, '--format', 'json']);
    assert.equal(check.code, 0, check.stderr);
    assert.deepEqual(JSON.parse(check.stdout).sets.find((s: { family: number }) => s.family === 4).elements, ['10.9.0.1']);
  });

  it('pushes a valid policy; refuses an invalid one and writes nothing', async () => {
    const ok = await runCli(['push', '--policy', join(dir, 'policy.yaml'), '--inventory', url]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /pushed policy [0-9a-f]{16} \(1 rules, 1 file\(s\)\).*compiled for 1 host/);
    const before = etcd.ctl(['get', keys.policy, '-w', 'json']);
    const bad = await runCli(['push', '--policy', join(dir, 'bad.yaml'), '--inventory', url]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /bad\.yaml:3:\d+: error: rule "Broken"/);
    assert.equal(JSON.parse(etcd.ctl(['get', keys.policy, '-w', 'json'])).kvs[0].mod_revision, JSON.parse(before).kvs[0].mod_revision);
  });

  it('refuses a policy that drops SSH from the admin networks on any host, naming the hosts; writes nothing (finding 6)', async () => {
    writeFileSync(join(dir, 'lockout.yaml'), 'settings: { input_drop: true, failsafe: { in: [] } }\nrules:\n  Web:\n    on: roles:web\n    direction: in\n    protocol: tcp\n    source: 10.0.0.0/8\n    dport: 443\n');
    const before = etcd.ctl(['get', keys.policy, '-w', 'json']);
    const refused = await runCli(['push', '--policy', join(dir, 'lockout.yaml'), '--inventory', url]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /nas-1.*push refused: this policy would drop SSH from the admin network 0\.0\.0\.0\/0/);
    assert.equal(etcd.ctl(['get', keys.policy, '-w', 'json']), before);
    const office = await runCli(['push', '--policy', join(dir, 'lockout.yaml'), '--inventory', url, '--admin-network', '192.0.2.0/24']);
    assert.equal(office.code, 1);
    assert.match(office.stderr, /admin network 192\.0\.2\.0\/24 \(tcp 192\.0\.2\.1 -> 10\.9\.0\.1:22/);
    const forced = await runCli(['push', '--policy', join(dir, 'lockout.yaml'), '--inventory', url, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal((await runCli(['push', '--policy', join(dir, 'policy.yaml'), '--inventory', url])).code, 0);
  });

  it('reports every host: static, missing, lagging and ok', async () => {
    const client = connectEtcd(parseEtcdUrl(url));
    try {
      await client.put(keys.host('web-9')).value(JSON.stringify({ name: 'web-9', networks: ['10.9.0.0/24'] }));
      await client.put(keys.statusOf('gone')).value(JSON.stringify({ host: 'gone', revision: 1, policyRevision: 'x', inventoryRevision: 'y', hash: null, mode: 'full', appliedAt: null, error: null, errorAt: null }));
      const r = await runCli(['fleet', 'status', '--inventory', url, '--format', 'json']);
      assert.equal(r.code, 3, 'missing hosts: exit 3');
      const states = Object.fromEntries(JSON.parse(r.stdout).hosts.map((h: { host: string; state: string }) => [h.host, h.state]));
      assert.deepEqual(states, { 'nas-1': 'static', 'web-9': 'missing', gone: 'missing' });
      const text = await runCli(['fleet', 'status', '--inventory', url]);
      assert.match(text.stdout, /3 host\(s\): 0 ok, 1 static, 2 missing/);
      await client.delete().key(keys.host('web-9'));
    } finally {
      client.close();
    }
  });

  it('with auth on, an agent writes its own keys only; without credentials nothing is readable', async () => {
    const authUrl = etcd.url('/secure');
    const refused = await runCli(['fleet', 'init-auth', '--endpoints', etcd.endpoints.join(','), '--prefix', '/secure', '--root-password', 'hunter2']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--root-password is refused: a password on the command line is visible to every user in ps .* Use --root-password-file FILE/);
    assert.doesNotMatch(refused.stdout + refused.stderr, /hunter2/, 'the refused secret is never echoed');
    writeFileSync(join(dir, 'root.pass'), 'rootpw\n');
    const adminFile = join(dir, 'admin.pass');
    const init = await runCli(['fleet', 'init-auth', '--endpoints', etcd.endpoints.join(','), '--prefix', '/secure', '--root-password-file', join(dir, 'root.pass'), '--admin-password-file', adminFile]);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /admin password: generated, written to .*admin\.pass \(mode 0600\)/);
    assert.doesNotMatch(init.stdout, /rootpw/);
    assert.equal(statSync(adminFile).mode & 0o777, 0o600);
    assert.match(readFileSync(adminFile, 'utf8'), /^\S{20,}\n$/);
    const anonymousPush = await runCli(['push', '--inventory', authUrl, '--policy', join(dir, 'policy.yaml')]);
    assert.equal(anonymousPush.code, 1);
    assert.match(anonymousPush.stderr, /etcd has authentication on and no user was given: pass --user NAME --password-file FILE \(or set PALISADE_ETCD_USER and PALISADE_ETCD_PASSWORD_FILE\)/);
    assert.doesNotMatch(anonymousPush.stderr, /user name is empty/);
    writeFileSync(join(dir, 'wrong.pass'), 'nope\n');
    const wrong = await runCli(['fleet', 'status', '--inventory', authUrl, '--user', 'admin', '--password-file', join(dir, 'wrong.pass')]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /etcd refused user "admin" with the password in .*wrong\.pass: check --user and --password-file/);
    const agentFile = join(dir, 'web-1.pass');
    const add = await runCli(['fleet', 'add-agent', 'web-1', '--role', 'web', '--network', '10.0.0.0/24', '--inventory', authUrl, '--user', 'root', '--password-file', join(dir, 'root.pass'), '--agent-password-file', agentFile]);
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /registered web-1 \(roles web; addresses in 10\.0\.0\.0\/24\)/);
    assert.match(add.stdout, /password: generated, written to .*web-1\.pass \(mode 0600\)/);
    const password = readFileSync(agentFile, 'utf8').trim();
    const agent = connectEtcd(parseEtcdUrl(authUrl), { user: 'web-1', password });
    const secure = fleetKeys('/secure');
    try {
      await agent.put(secure.member('web-1')).value('{"name":"web-1"}');
      await agent.put(secure.claim('web-1', '10.0.0.1')).value('');
      await agent.put(secure.aliveOf('web-1')).value('');
      await agent.put(secure.statusOf('web-1')).value('{}');
      await assert.rejects(agent.put(secure.host('web-1')).value('{"name":"web-1","roles":["bastion"]}').exec(), /permission denied/, 'an agent cannot write its own registration (finding 1)');
      await assert.rejects(agent.put(secure.claim('web-10', '10.0.0.1')).value('').exec(), /permission denied/);
      await agent.put(secure.flowsOf('web-1')).value('{}');
      await assert.rejects(agent.put(secure.host('web-2')).value('{"name":"web-2"}').exec(), /permission denied/);
      await assert.rejects(agent.put(secure.flowsOf('web-2')).value('{}').exec(), /permission denied/);
      await agent.put(secure.countersOf('web-1')).value('{}');
      await assert.rejects(agent.put(secure.countersOf('web-2')).value('{}').exec(), /permission denied/, "an agent cannot write another host's counters");
      await assert.rejects(agent.put(secure.policy).value('{}').exec(), /permission denied/);
      const anonymous = await runCli(['fleet', 'status', '--inventory', authUrl]);
      assert.equal(anonymous.code, 1);
    } finally {
      agent.close();
      const root = connectEtcd(parseEtcdUrl(authUrl), { user: 'root', password: 'rootpw' });
      await root.auth.authDisable({});
      root.close();
    }
  });
});
