/** loadInventory's built-in sources: files and exec: commands (success, failure, timeout); etcd:// is registered by the app layer (test/app/inventory.test.ts). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { InputError } from '../../src/diagnostics.ts';
import { loadInventory } from '../../src/inventory/source.ts';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

async function refusal(source: string, options: { cwd: string; execTimeoutMs?: number } = { cwd: fixtures }): Promise<string> {
  try {
    await loadInventory(source, options);
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    assert.equal(e.diagnostics[0]?.file, source);
    return e.diagnostics.map((d) => d.message).join('\n');
  }
  assert.fail(`expected ${source} to be refused`);
}

describe('loadInventory', () => {
  it('reads a file relative to cwd', async () => {
    const inventory = await loadInventory('hosts.json', { cwd: fixtures });
    assert.equal(inventory.source, 'hosts.json');
    assert.deepEqual(inventory.hosts.map((h) => h.name), ['json-1']);
  });

  it('reads a file holding U+FFFD of its own, and refuses bytes that are not UTF-8 at their position', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-source-'));
    try {
      writeFileSync(join(dir, 'ok.yaml'), 'hosts:\n  - { name: a, attributes: { note: "\uFFFD" }, interfaces: { eth0: 10.0.0.1 } }\n');
      assert.deepEqual((await loadInventory('ok.yaml', { cwd: dir })).hosts[0]?.attributes, { note: '\uFFFD' });
      writeFileSync(join(dir, 'bad.json'), Buffer.concat([Buffer.from('{"hosts": [\n  {"name": "a", "roles": ["caf'), Buffer.from([0xe9]), Buffer.from('"]}\n]}')]));
      const refused = await loadInventory('bad.json', { cwd: dir }).then(
        () => assert.fail('expected bad.json to be refused'),
        (e: unknown) => (e as InputError).diagnostics,
      );
      assert.deepEqual(
        refused.map((d) => [d.file, d.line, d.col, d.message]),
        [['bad.json', 2, 31, 'invalid UTF-8 (byte 0xe9): save the file as UTF-8']],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names a missing file and the reason', async () => {
    assert.match(await refusal('missing.yaml'), /cannot read inventory: ENOENT: no such file or directory/);
  });

  it('runs an exec: command in cwd and parses its JSON', async () => {
    const inventory = await loadInventory('exec:cat knife-nodes.json', { cwd: fixtures });
    assert.equal(inventory.source, 'exec:cat knife-nodes.json');
    assert.equal(inventory.hosts.length, 3);
    assert.equal(inventory.hosts[0]?.origin?.file, 'exec:cat knife-nodes.json');
  });

  it('keeps what a successful command wrote to stderr as a warning', async () => {
    const inventory = await loadInventory('exec:echo deprecated >&2; cat hosts.json', { cwd: fixtures });
    assert.deepEqual(inventory.diagnostics.map((d) => [d.severity, d.message]), [['warning', 'the command wrote to stderr:\ndeprecated']]);
  });

  it('reports a failing command with its exit code and the end of its stderr', async () => {
    const message = await refusal('exec:echo first >&2; echo "knife: 401 Unauthorized" >&2; exit 3');
    assert.equal(message, 'exec inventory failed: exit code 3:\nfirst\nknife: 401 Unauthorized');
  });

  it('reports invalid output with the exec: label', async () => {
    assert.match(await refusal('exec:echo "{\\"hosts\\": [{\\"name\\": \\"a b\\"}]}"'), /invalid host name "a b"/);
  });

  it('kills a command that runs too long, with its children', async () => {
    const started = Date.now();
    assert.equal(await refusal('exec:sleep 5', { cwd: fixtures, execTimeoutMs: 200 }), 'exec inventory timed out after 0.2 s');
    assert.ok(Date.now() - started < 2000);
  });

  it('refuses unknown schemes, naming the registered sources', async () => {
    assert.match(await refusal('http://example.net/inventory.json'), /unknown inventory source: expected a file, exec:COMMAND/);
    assert.match(await refusal('exec:'), /exec: needs a command/);
  });
});
