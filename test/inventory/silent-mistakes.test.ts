/**
 * Issue 10 finding 8: mistakes that passed silently are now reported at their position (the `confirm` part
 * of that finding is the apply life cycle's).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, type Diagnostic } from '../../src/diagnostics.ts';
import { parseInventoryDocument } from '../../src/inventory/document.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/tmp.ts';

const dir = tempDir('palisade-silent-');
let count = 0;

function file(content: string | Buffer, ext = 'yaml'): string {
  const path = join(dir, `f${count++}.${ext}`);
  writeFileSync(path, content);
  return path;
}

const inventory = 'hosts:\n  - name: web-1\n    roles: [web]\n    interfaces: { eth0: [10.0.0.1] }\n    users: { app: 4200 }\n  - name: db-1\n    interfaces: { eth0: [10.0.0.2] }\n';
const policy = 'rules:\n  Web in:\n    direction: in\n    protocol: tcp\n    source: name:db-1\n    dport: 443\n';

function errorsOf(text: string): Diagnostic[] {
  try {
    parseInventoryDocument(text, 'inv.yaml');
  } catch (e) {
    assert.ok(e instanceof InputError);
    return e.diagnostics;
  }
  return [];
}

describe('silent mistakes are reported', () => {
  it('two users sharing a uid: a warning naming both, at the second', async () => {
    const text = 'hosts:\n  - name: web-1\n    interfaces: { eth0: [10.0.0.1] }\n    users:\n      app: 4200\n      app2: 4200\n';
    const { diagnostics } = parseInventoryDocument(text, 'inv.yaml');
    assert.deepEqual(
      diagnostics.map((d) => [d.severity, d.host, d.line, d.col]),
      [['warning', 'web-1', 6, 7]],
    );
    assert.match(diagnostics[0]?.message ?? '', /users app and app2 share uid 4200/);
    const r = await runCli(['check', '--no-resolve', '--policy', file(policy), '--inventory', file(text)]);
    assert.equal(r.code, 0);
    assert.match(r.stdout + r.stderr, /:6:7: warning: host "web-1": users app and app2 share uid 4200/);
  });

  it('NAT64, IPv4-translated and link-local addresses are not host addresses', () => {
    for (const [address, why] of [
      ['64:ff9b::a00:1', /NAT64/],
      ['fe80::1', /link-local/],
      ['169.254.10.1', /link-local/],
      ['::ffff:0:a00:1', /IPv4-translated/],
    ] as const) {
      const found = errorsOf(`hosts:\n  - name: h\n    interfaces: { eth0: ["${address}"] }\n`);
      assert.equal(found.length, 1, address);
      assert.match(found[0]?.message ?? '', why);
      assert.deepEqual([found[0]?.line, found[0]?.col], [3, 26]);
    }
  });

  it('an alias without its anchor is an error at the alias, in inventories and policies', async () => {
    const badInventory = file(inventory.replace('roles: [web]', 'roles: *nope'));
    let r = await runCli(['check', '--no-resolve', '--policy', file(policy), '--inventory', badInventory]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /f\d+\.yaml:3:12: error: alias \*nope has no anchor &nope before it/);
    r = await runCli(['check', '--no-resolve', '--policy', file(policy.replace('dport: 443', 'dport: 443\n    options: *opts')), '--inventory', file(inventory)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /f\d+\.yaml:7:14: error: alias \*opts has no anchor &opts before it/);
  });

  it('bytes that are not UTF-8 are an error at their position, in inventories and policies', async () => {
    const badPolicy = file(Buffer.concat([Buffer.from('rules:\n  "Web '), Buffer.from([0xff, 0xfe]), Buffer.from(policy.slice('rules:\n  Web '.length).replace(':', '":'))]));
    let r = await runCli(['check', '--no-resolve', '--policy', badPolicy, '--inventory', file(inventory)]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /f\d+\.yaml:2:8: error: invalid UTF-8 \(byte 0xff\)/);
    const badInventory = file(Buffer.from(inventory.replace('roles: [web]', 'roles: [caf\u00e9, w\u0000b]').replace('\u0000', '\u00ff'), 'latin1'));
    r = await runCli(['check', '--no-resolve', '--policy', file(policy), '--inventory', badInventory]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /f\d+\.yaml:3:16: error: invalid UTF-8 \(byte 0xe9\)/);
  });

  it('escape sequences in names and values never reach the terminal raw', async () => {
    const escapedName = 'rules:\n  "Web \\e[31min\\e]0;owned\\a":\n    direction: in\n    protocol: tcp\n    source: name:db-1\n    dport: 443\n';
    const bad = await runCli(['check', '--no-resolve', '--policy', file(escapedName), '--inventory', file(inventory)]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /rule "Web \\x1b\[31min\\x1b\]0;owned\\x07"/);
    const escapedValues = 'rules:\n  Web in:\n    direction: in\n    protocol: tcp\n    source: \'roles:"\\e[31mx" OR name:db-1\'\n    dport: 443\n';
    const good = ['--no-resolve', '--policy', file(escapedValues), '--inventory', file(inventory.replace('roles: [web]', 'roles: [web, "\\e]0;owned\\a"]'))];
    const runs = [
      bad,
      await runCli(['check', ...good]),
      await runCli(['compile', '--host', 'web-1', ...good]),
      await runCli(['compile', '--host', 'web-1', '--format', 'iptables', ...good]),
      await runCli(['compile', '--host', 'web-1', '--format', 'json', ...good]),
      await runCli(['explain', 'db-1', 'web-1', '443', ...good]),
      await runCli(['explain', '\u001b[2Jx', 'web-1', '443', ...good]),
      await runCli(['plan', ...good]),
    ];
    for (const r of runs) assert.doesNotMatch(r.stdout + r.stderr, /[\u001b\u0007]/, r.stdout + r.stderr);
    assert.equal(runs[2]?.code, 0, runs[2]?.stderr);
  });
});
