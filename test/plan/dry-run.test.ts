/**
 * `apply --dry-run` shows what it would change in the kernel as lines of the backend's listing in nft syntax,
 * the text `status` shows drift in (golden file; regenerate with `UPDATE_GOLDEN=1` after checking the change),
 * and the same as JSON; for real, against a test namespace: the ruleset is listed in a scratch namespace of its
 * own, nothing is loaded where it would apply, and no scratch namespace is left.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { describeChanges, listingChanges } from '../../src/apply/dry-run.ts';
import { runCli } from '../helpers/cli.ts';
import { namespaceName, run, skipUnlessRoot } from '../helpers/netns.ts';
import { tempDir } from '../helpers/tmp.ts';

const GOLDEN = join(import.meta.dirname, 'golden');
const update = process.env.UPDATE_GOLDEN === '1';

const rule = (chain: string, comment: string, port: number): string =>
  JSON.stringify({ rule: { family: 'inet', table: 'palisade', chain, comment, expr: [{ match: { op: '==', left: { payload: { protocol: 'ip', field: 'saddr' } }, right: '@pal4_ab' } }, { match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: port } }, { counter: null }, { accept: null }] } });
const set = (elements: string[]): string => JSON.stringify({ set: { family: 'inet', name: 'pal4_ab', table: 'palisade', type: 'ipv4_addr', elem: elements } });

describe('apply --dry-run: the changes as nft text', () => {
  it('added and removed listing lines, in the text status uses for drift (golden)', () => {
    const now = [set(['10.0.1.11']), rule('input', 'API cluster RPC', 7000), rule('input', 'Web', 80)].join('\n');
    const after = [set(['10.0.1.11', '10.0.1.17']), rule('input', 'API cluster RPC', 7005), rule('input', 'Web', 80)].join('\n');
    const lines = describeChanges(listingChanges('nft', now, after));
    const path = join(GOLDEN, 'dry-run.txt');
    if (update) writeFileSync(path, `${lines.join('\n')}\n`);
    assert.ok(existsSync(path), `${path} is missing: run UPDATE_GOLDEN=1`);
    assert.equal(`${lines.join('\n')}\n`, readFileSync(path, 'utf8'));
    assert.deepEqual(describeChanges(listingChanges('nft', now, now)), ["  no change to the kernel's nft ruleset"]);
    assert.deepEqual(describeChanges(listingChanges('iptables', '-A PALISADE-INPUT -j ACCEPT', null)), ['  - -A PALISADE-INPUT -j ACCEPT']);
  });

  it('for real: lists the ruleset in a scratch namespace, loads nothing, text and JSON', { skip: skipUnlessRoot }, async () => {
    const dir = tempDir('pal-dry-run-');
    writeFileSync(join(dir, 'inventory.yaml'), 'hosts:\n  - name: h1\n    roles: [web]\n    interfaces: { eth0: [10.0.0.1] }\n  - name: m1\n    roles: [mon]\n    interfaces: { eth0: [10.0.0.9] }\n');
    writeFileSync(join(dir, 'policy.yaml'), 'rules:\n  Web:\n    on: roles:web\n    direction: in\n    protocol: tcp\n    source: roles:mon\n    dport: 80\n');
    const ns = namespaceName('pal-dryt');
    run('ip', ['netns', 'add', ns]);
    const scratch = (): string[] => spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.startsWith('pal-dry-'));
    const before = scratch();
    try {
      const base = ['apply', '--host', 'h1', '--policy', join(dir, 'policy.yaml'), '--inventory', join(dir, 'inventory.yaml'), '--no-resolve', '--netns', ns, '--state-dir', join(dir, 'state'), '--dry-run'];
      const text = await runCli(base);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /# changes to the kernel's nft ruleset \(\+ added, - removed\), as `palisade status` shows drift:\n {2}\+ table inet palisade\n/);
      assert.match(text.stdout, /\n {2}\+ rule input: ip saddr @pal4_\w+ tcp dport 80 counter accept comment "Web"\n/);
      assert.doesNotMatch(text.stdout, /\+ rule \{/, 'no JSON left in the lines');
      const json = await runCli([...base, '--format', 'json']);
      const parsed = JSON.parse(json.stdout) as { host: string; changes: { added: string[]; removed: string[] }; drift: { drifted: boolean } };
      assert.equal(parsed.host, 'h1');
      assert.ok(parsed.changes.added.includes('rule input: tcp dport 22 counter accept comment "failsafe in 1"'), parsed.changes.added.join('\n'));
      assert.deepEqual(parsed.changes.removed, []);
      assert.equal(parsed.drift.drifted, false);
      assert.notEqual(spawnSync('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'inet', 'palisade']).status, 0, 'nothing was loaded');
      assert.deepEqual(scratch().filter((n) => !before.includes(n)), [], 'no scratch namespace left');
      const misuse = await runCli(['apply', '--host', 'h1', '--format', 'json']);
      assert.equal(misuse.code, 2);
      assert.match(misuse.stderr, /--format json goes with --dry-run/);
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
    }
  });
});
