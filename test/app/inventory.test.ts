/** The application layer's inventory loading: the inventory registry with etcd:// registered (fleet reads are tested in test/fleet). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadInventory } from '../../src/app/inventory.ts';
import { InputError } from '../../src/diagnostics.ts';

async function refusal(source: string): Promise<string> {
  try {
    await loadInventory(source, { cwd: '.' });
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    assert.equal(e.diagnostics[0]?.file, source);
    return e.diagnostics.map((d) => d.message).join('\n');
  }
  assert.fail(`expected ${source} to be refused`);
}

describe('loadInventory (app)', () => {
  it('reports an unreachable etcd:// and a malformed one', async () => {
    assert.match(await refusal('etcd://127.0.0.1:1/palisade'), /cannot read the fleet from etcd/);
    assert.match(await refusal('etcd://no-port/palisade'), /"no-port" is not HOST:PORT/);
  });

  it('names every registered source when it refuses an unknown scheme', async () => {
    assert.match(await refusal('http://example.net/inventory.json'), /unknown inventory source: expected a file, exec:COMMAND or etcd:\/\/host:port\/prefix/);
  });
});
