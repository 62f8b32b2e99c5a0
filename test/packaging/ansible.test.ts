/**
 * The Ansible role (deploy/ansible): the playbook passes `ansible-playbook --syntax-check`, and a `--check`
 * run against localhost (local connection) goes through every task without changing anything.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildDeb, DEB, ROOT } from './artifacts.ts';

const skip = spawnSync('sh', ['-c', 'command -v ansible-playbook']).status === 0 ? false : 'needs ansible-playbook (Debian: ansible-core)';
const DIR = join(ROOT, 'deploy/ansible');

function playbook(args: string[]): { status: number | null; out: string } {
  const r = spawnSync('ansible-playbook', ['-i', 'localhost,', ...args, 'site.yml'], { cwd: DIR, encoding: 'utf8', env: { ...process.env, ANSIBLE_NOCOLOR: '1' } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('the Ansible role', { skip }, () => {
  it('passes the syntax check', () => {
    const r = playbook(['--syntax-check']);
    assert.equal(r.status, 0, r.out);
  });

  it('runs in check mode against localhost, changing nothing', () => {
    const deb = existsSync(DEB) ? DEB : buildDeb();
    const configured = ['/etc/palisade/agent.env', '/etc/palisade/host.yaml', '/var/cache/palisade.deb'].filter(existsSync);
    const vars = JSON.stringify({ palisade_deb: deb, palisade_inventory: 'etcd://127.0.0.1:2379/palisade', palisade_roles: ['web'], palisade_metrics: '127.0.0.1:9742' });
    const r = playbook(['--check', '--diff', '-c', 'local', '-e', vars]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /PALISADE_AGENT_ARGS=--host localhost --inventory etcd:\/\/127\.0\.0\.1:2379\/palisade --metrics 127\.0\.0\.1:9742/);
    assert.match(r.out, /localhost\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0/);
    assert.deepEqual(['/etc/palisade/agent.env', '/etc/palisade/host.yaml', '/var/cache/palisade.deb'].filter(existsSync), configured, 'check mode wrote nothing');
  });
});
