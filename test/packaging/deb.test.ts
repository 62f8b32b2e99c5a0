/**
 * The Debian package on this machine: installed with dpkg, /usr/bin/palisade runs with no node on PATH, both
 * units verify and the agent's sandbox is measured, an upgrade keeps the admin's configuration, removal
 * leaves only the configuration and purge leaves nothing. Installing or removing never touches the firewall
 * and starts nothing (systemd is not PID 1 here, and the package enables no unit anyway). One run at a time
 * on the machine (a lock), and never when a palisade package was installed by someone else.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { acquireLock, type Lock } from '../../src/apply/lock.ts';
import { VERSION } from '../../src/version.ts';
import { buildDeb, pathWithoutNode, ROOT } from './artifacts.ts';

const have = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const skip =
  process.getuid?.() !== 0 ? 'needs root to install a package' : !['dpkg', 'dpkg-deb', 'systemd-analyze'].every(have) ? 'needs dpkg, dpkg-deb and systemd-analyze' : false;

const UNITS = ['/lib/systemd/system/palisade-restore.service', '/lib/systemd/system/palisade-agent.service'];
const LEFT = ['/usr/bin/palisade', ...UNITS, '/etc/palisade', '/var/lib/palisade'];

function sh(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; out: string } {
  const r = spawnSync(command, args, { cwd: ROOT, env, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** dpkg, waiting while another dpkg or apt holds its lock. */
function dpkg(args: string[]): string {
  for (let attempt = 0; ; attempt++) {
    const r = sh('dpkg', args);
    if (r.status === 0) return r.out;
    if (!/lock/i.test(r.out) || attempt === 60) assert.fail(`dpkg ${args.join(' ')}: ${r.out}`);
    spawnSync('sleep', ['2']);
  }
}

/** The package's dpkg status, '' when dpkg knows nothing of it. */
const installed = (): string => spawnSync('dpkg-query', ['-W', '-f=${Status}', 'palisade'], { encoding: 'utf8' }).stdout.trim();

/** palisade's own kernel state, to prove the package never changes it. */
const firewall = (): string => [sh('nft', ['list', 'table', 'inet', 'palisade']).out, sh('iptables-save', []).out.split('\n').filter((l) => l.includes('PALISADE')).join('\n')].join('\n--\n');

const palisadeProcesses = (): string[] =>
  readdirSync('/proc')
    .filter((pid) => /^\d+$/.test(pid))
    .filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/exe`) === '/usr/bin/palisade';
      } catch {
        return false;
      }
    });

describe('the Debian package', { skip }, () => {
  let lock: Lock | undefined;
  let ours = false;
  let deb: string;

  before(async () => {
    lock = await acquireLock('/tmp/palisade-deb-test', 15 * 60_000, { command: ['deb.test.ts'] });
    deb = buildDeb();
  });

  after(async () => {
    if (ours && installed() !== '') dpkg(['--purge', 'palisade']);
    await lock?.release();
  });

  it('installs, runs without node, verifies, upgrades, is removed and purged without a trace or a firewall change', (t) => {
    if (installed() !== '') return t.skip(`a palisade package is installed on this machine (${installed()}): not touching it`);
    const before = firewall();
    ours = true;
    dpkg(['-i', deb]);
    assert.equal(installed(), 'install ok installed');
    assert.deepEqual(palisadeProcesses(), [], 'installing starts nothing');

    const noNode = { ...process.env, PATH: pathWithoutNode() };
    assert.notEqual(sh('sh', ['-c', 'command -v node'], noNode).status, 0, 'node is not on the stripped PATH');
    assert.equal(sh('palisade', ['--version'], noNode).out.trim(), VERSION);
    const check = sh('palisade', ['check'], noNode);
    assert.equal(check.status, 0, check.out);
    assert.match(check.out, /^ok: 36 rules/m);

    const verify = sh('systemd-analyze', ['verify', ...UNITS]);
    assert.equal(verify.status, 0, verify.out);
    assert.equal(verify.out.trim(), '', 'systemd-analyze verify is clean');
    for (const unit of UNITS) {
      const security = sh('systemd-analyze', ['security', '--offline=true', unit]);
      const exposure = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(security.out)?.[1]);
      t.diagnostic(`${unit}: exposure ${exposure}`);
      assert.ok(exposure <= 2.5, `${unit} exposure ${exposure} > 2.5`);
    }

    writeFileSync('/etc/palisade/agent.env', 'PALISADE_AGENT_ARGS=--host test-1 --inventory /nonexistent.yaml\n');
    dpkg(['-i', deb]);
    assert.equal(readFileSync('/etc/palisade/agent.env', 'utf8'), 'PALISADE_AGENT_ARGS=--host test-1 --inventory /nonexistent.yaml\n', 'an upgrade keeps the edited configuration');

    dpkg(['-r', 'palisade']);
    assert.equal(installed(), 'deinstall ok config-files');
    assert.deepEqual(LEFT.filter(existsSync), ['/etc/palisade'], 'removal leaves only the configuration');
    dpkg(['--purge', 'palisade']);
    assert.equal(installed(), '');
    assert.deepEqual(LEFT.filter(existsSync), [], 'purge leaves nothing');
    assert.equal(firewall(), before, "the firewall is as it was");
    assert.deepEqual(palisadeProcesses(), []);
  });
});
