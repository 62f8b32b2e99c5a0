/** The systemd units: what they run, their order at boot, the agent's sandbox, and install-service. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentUnit, restoreUnit } from '../../src/apply/service.ts';
import { selfCommand } from '../../src/self.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

describe('systemd units', () => {
  it('restores at boot in a oneshot unit ordered before the network, from the state directory alone', () => {
    const unit = restoreUnit('/var/lib/my palisade', ['/usr/bin/palisade']);
    for (const line of ['Type=oneshot', 'Before=network-pre.target shutdown.target', 'Wants=network-pre.target', 'DefaultDependencies=no', 'RemainAfterExit=yes']) {
      assert.match(unit, new RegExp(`^${line}$`, 'm'));
    }
    assert.match(unit, /^ExecStart=\/usr\/bin\/palisade restore --state-dir "\/var\/lib\/my palisade"$/m);
  });

  it('runs the agent with its flags from agent.env, restarted always, with only the network capabilities', () => {
    const unit = agentUnit('/var/lib/palisade', ['/usr/bin/palisade']);
    assert.match(unit, /^ExecStart=\/usr\/bin\/palisade agent --state-dir \/var\/lib\/palisade \$PALISADE_AGENT_ARGS$/m);
    for (const line of ['EnvironmentFile=-/etc/palisade/agent.env', 'Restart=always', 'CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/palisade -/run/xtables.lock', 'RuntimeDirectory=palisade', 'RuntimeDirectoryPreserve=yes', 'NoNewPrivileges=yes']) {
      assert.match(unit, new RegExp(`^${line}$`, 'm'));
    }
  });

  it('escapes what systemd would expand in a path', () => {
    const unit = restoreUnit('/srv/a%b$c', ['/opt/my tools/palisade']);
    assert.match(unit, /^ExecStart="\/opt\/my tools\/palisade" restore --state-dir "\/srv\/a%%b\$\$c"$/m);
  });

  it('install-service writes both units into --unit-dir, running this palisade (no systemctl)', async () => {
    const dir = tempDir('pal-unit-');
    const r = await runCli(['install-service', '--unit-dir', dir, '--state-dir', '/srv/pal']);
    assert.equal(r.code, 0, r.stderr);
    const self = selfCommand().join(' ');
    assert.match(readFileSync(join(dir, 'palisade-restore.service'), 'utf8'), new RegExp(`^ExecStart=${self} restore --state-dir /srv/pal$`, 'm'));
    assert.match(readFileSync(join(dir, 'palisade-agent.service'), 'utf8'), new RegExp(`^ExecStart=${self} agent --state-dir /srv/pal \\$PALISADE_AGENT_ARGS$`, 'm'));
  });
});
