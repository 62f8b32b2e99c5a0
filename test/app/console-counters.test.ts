import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { localCounters } from '../../src/app/console-views.ts';
import { runCli } from '../helpers/cli.ts';
import { namespaceName, run, skipUnlessRoot } from '../helpers/netns.ts';
import { tempDir } from '../helpers/tmp.ts';

const dir = tempDir('palisade-console-counters-');
const ns = namespaceName('pal-ccnt');

before(() => {
  if (skipUnlessRoot === false) run('ip', ['netns', 'add', ns]);
});
after(() => {
  spawnSync('ip', ['netns', 'del', ns]);
});

test("a host page has the host's counters only where palisade applied that host's ruleset", { skip: skipUnlessRoot }, async () => {
  writeFileSync(join(dir, 'policy.yaml'), 'settings: { input_drop: true, input_drop_log: true }\nrules: {}\n');
  writeFileSync(join(dir, 'inventory.yaml'), 'hosts:\n  - { name: srv, environment: test, roles: [srv], interfaces: { eth0: [10.9.9.9] } }\n');
  const state = join(dir, 'state');
  const applied = await runCli(['apply', '--host', 'srv', '--policy', join(dir, 'policy.yaml'), '--inventory', join(dir, 'inventory.yaml'), '--netns', ns, '--state-dir', state, '--no-resolve']);
  assert.equal(applied.code, 0, applied.stderr);
  const counters = await localCounters('srv', state, { netns: ns });
  assert.ok(counters !== null && counters.source === 'local' && counters.chains.some((c) => c.chain === 'input'), JSON.stringify(counters));
  assert.equal(await localCounters('other-host', state, { netns: ns }), null);
  assert.equal(await localCounters('srv', join(dir, 'no-such-dir'), { netns: ns }), null);
});
