/**
 * `hosts sync --from SOURCE` against a real etcd: registers and updates the source's hosts, keeps an agent
 * registration's networks, removes only hosts an earlier sync registered, refuses a failed, empty or hostile
 * source and a removal of most hosts (nothing written), and --dry-run writes nothing.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fleetKeys } from '../../src/fleet/keys.ts';
import { runCli } from '../helpers/cli.ts';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.ts';
import { tempDir } from '../helpers/tmp.ts';

const keys = fleetKeys('/palisade');
const host = (name: string, address: string, roles: string[]): object => ({ name, environment: 'production', roles, interfaces: { eth0: [address] }, lan: 'eth0' });

describe('hosts sync', () => {
  let etcd: EtcdCluster;
  let dir: string;
  let url: string;
  const source = (file: string, hosts: object[]): string => {
    writeFileSync(join(dir, file), JSON.stringify({ hosts }));
    return `exec:cat ${join(dir, file)}`;
  };
  const sync = (from: string, ...flags: string[]) => runCli(['hosts', 'sync', '--from', from, '--inventory', url, ...flags]);
  const registration = (name: string): Record<string, unknown> | null => {
    const text = etcd.ctl(['get', keys.host(name), '--print-value-only']).trim();
    return text === '' ? null : (JSON.parse(text) as Record<string, unknown>);
  };
  const revision = (): number => Number(JSON.parse(etcd.ctl(['get', '/', '--prefix', '-w', 'json', '--limit', '1'])).header.revision);

  before(async () => {
    etcd = await startEtcd();
    url = etcd.url();
    dir = tempDir('palisade-hosts-sync-');
  });
  after(async () => {
    await etcd?.close();
  });

  it('registers the source hosts, keeps what the admin registered, and removes only what it synced', async () => {
    const password = join(dir, 'agent.pass');
    writeFileSync(password, 'x\n', { mode: 0o600 });
    const agent = await runCli(['fleet', 'add-agent', 'web-1', '--role', 'old', '--network', '10.20.1.0/24', '--agent-password-file', password, '--inventory', url]);
    assert.equal(agent.code, 0, agent.stderr);
    const manual = await runCli(['hosts', 'put', '--name', 'nas-1', '--address', '10.20.9.9', '--role', 'backup', '--inventory', url]);
    assert.equal(manual.code, 0, manual.stderr);

    const first = source('one.json', [host('web-1', '10.20.1.5', ['web']), host('db-1', '10.20.2.5', ['db']), host('db-2', '10.20.2.6', ['db'])]);
    const dry = await sync(first, '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /add {5}db-1\n {2}add {5}db-2\n {2}update {2}web-1: environment, interfaces, lan, roles, users\n/);
    assert.match(dry.stdout, /dry run, nothing written: would be 2 added, 1 updated, 0 removed/);
    assert.equal(registration('db-1'), null);

    const done = await sync(first);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /synced: 2 added, 1 updated, 0 removed/);
    assert.deepEqual(registration('db-1')?.roles, ['db']);
    const web = registration('web-1');
    assert.deepEqual([web?.roles, web?.networks], [['web'], ['10.20.1.0/24']], 'the identity is the source\'s, the networks the admin\'s');

    const again = await sync(first);
    assert.match(again.stdout, /unchanged: 3\nsynced: 0 added, 0 updated, 0 removed/);

    const second = source('two.json', [host('web-1', '10.20.1.5', ['web', 'edge']), host('db-1', '10.20.2.5', ['db'])]);
    const changed = await sync(second);
    assert.equal(changed.code, 0, changed.stderr);
    assert.match(changed.stdout, /update {2}web-1: roles\n {2}remove {2}db-2\n/);
    assert.equal(registration('db-2'), null);
    assert.deepEqual(registration('nas-1')?.roles, ['backup'], 'a host the sync did not register is never removed');
  });

  it('refuses a failed, empty or hostile source, and removing most hosts, writing nothing', async () => {
    const at = revision();
    const failed = await sync('exec:echo boom >&2; exit 3');
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /exec:echo boom.*exit|boom/);

    const empty = await sync(source('empty.json', []));
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /would remove 2 of the 2 host\(s\) the last sync registered \(db-1, web-1\).*--force/);
    assert.match(empty.stderr, /nothing was changed/);

    const hostile = await sync(source('hostile.json', [host('../../policy', '10.20.3.1', ['db']), host('db-9', '10.20.3.300', ['db']), { name: 'x', roles: ['r'.repeat(70_000)] }]));
    assert.equal(hostile.code, 1);
    assert.match(hostile.stderr, /\.\.\/\.\.\/policy/);
    assert.match(hostile.stderr, /10\.20\.3\.300/);

    const stolen = await sync(source('steal.json', [host('web-1', '10.20.1.5', ['web', 'edge']), host('db-1', '10.20.2.5', ['db']), host('evil', '10.20.9.9', ['db'])]));
    assert.equal(stolen.code, 1);
    assert.match(stolen.stderr, /address 10\.20\.9\.9 already belongs to nas-1/);
    assert.equal(revision(), at, 'nothing was written');

    const forced = await sync(source('empty.json', []), '--force');
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /synced: 0 added, 0 updated, 2 removed/);
    assert.equal(registration('web-1'), null);
  });

  it('writes more changes than one transaction may hold in guarded batches', async () => {
    const many = Array.from({ length: 300 }, (_, i) => host(`vm-${i}`, `10.21.${i >> 7}.${(i & 127) + 1}`, ['vm']));
    const done = await sync(source('many.json', many));
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /synced: 300 added, 0 updated, 0 removed/);
    assert.equal(etcd.ctl(['get', keys.hosts, '--prefix', '--keys-only']).split('\n').filter((l) => l.includes('/hosts/vm-')).length, 300);
  });

  it('takes a file or a command, never the fleet itself', async () => {
    const self = await sync(url);
    assert.equal(self.code, 2);
    assert.match(self.stderr, /not the fleet itself/);
  });
});
