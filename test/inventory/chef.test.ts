/** Knife search JSON: one node row mapped to a host, and whole documents parsed with row positions. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { InputError } from '../../src/diagnostics.ts';
import { chefNodeToHost } from '../../src/inventory/chef.ts';
import { parseInventoryDocument } from '../../src/inventory/document.ts';

const FIXTURE = new URL('./fixtures/knife-nodes.json', import.meta.url);
const knife = readFileSync(FIXTURE, 'utf8');

describe('chefNodeToHost', () => {
  it('maps a full node', () => {
    const rows = (JSON.parse(knife) as { rows: unknown[] }).rows;
    assert.deepEqual(chefNodeToHost(rows[0]), {
      name: 'web-1.example.net',
      environment: 'production',
      roles: ['base', 'frontend', 'webserver'],
      tags: ['shop'],
      interfaces: { eth0: ['10.0.1.11', '2001:DB8:0:0::11', '10.0.1.111'], docker0: ['172.17.0.1'] },
      lan: 'eth0',
      users: { root: 0, 'www-data': 33 },
      attributes: {
        afw: { rules: { Web: { protocol: 'tcp', direction: 'in', dport: 443, source: '0.0.0.0/0' } } },
        fqdn: 'web-1.example.net',
        platform: 'debian',
        platform_version: '12.5',
      },
    });
  });

  it('tolerates missing sections', () => {
    assert.deepEqual(chefNodeToHost({ name: 'x' }), {
      name: 'x',
      environment: '_default',
      roles: [],
      tags: [],
      interfaces: {},
      users: {},
      attributes: {},
    });
    assert.equal(chefNodeToHost(null)['name'], undefined);
  });

  it('leaves out a default interface without addresses', () => {
    const node = { name: 'x', automatic: { network: { default_interface: 'eth9', interfaces: { eth0: { addresses: { '10.0.0.1': { family: 'inet' } } } } } } };
    assert.equal(chefNodeToHost(node)['lan'], undefined);
  });
});

describe('a knife document', () => {
  const inventory = parseInventoryDocument(knife, 'exec:knife search node "*:*" -F json');

  it('gives one host per row, validated and canonical', () => {
    assert.deepEqual(
      inventory.hosts.map((h) => [h.name, h.environment, h.lan, h.addresses]),
      [
        ['web-1.example.net', 'production', 'eth0', { v4: ['10.0.1.11', '10.0.1.111'], v6: ['2001:db8::11'] }],
        ['db-1.example.net', 'production', 'ens3', { v4: ['10.0.2.21'], v6: [] }],
        ['bare-1', '_default', 'eth0', { v4: ['10.0.3.5'], v6: [] }],
      ],
    );
    assert.deepEqual(inventory.hosts[1]?.interfaces, { ens3: ['10.0.2.21'], ens4: ['10.99.0.21'] });
    assert.deepEqual(inventory.hosts[1]?.users, { root: 0, mongodb: 105 });
    assert.deepEqual(inventory.diagnostics, []);
  });

  it('places each host at its row', () => {
    const rowLines = knife.split('\n').flatMap((line, i) => (line === '    {' ? [i + 1] : []));
    assert.equal(rowLines.length, 3);
    assert.deepEqual(
      inventory.hosts.map((h) => h.origin),
      rowLines.map((line) => ({ file: 'exec:knife search node "*:*" -F json', line, col: 5 })),
    );
  });

  it('reports a bad row at its position, with its name', () => {
    const text = JSON.stringify({ results: 2, rows: [{ name: 'ok', automatic: {} }, { name: 'bad', chef_environment: 'a b' }] }, null, 2);
    assert.throws(
      () => parseInventoryDocument(text, 'knife.json'),
      (e: unknown) => {
        assert.ok(e instanceof InputError);
        assert.deepEqual(
          e.diagnostics.map((d) => [d.host, d.line, d.col]),
          [['bad', 8, 5]],
        );
        assert.match(e.diagnostics[0]?.message ?? '', /invalid environment name "a b"/);
        return true;
      },
    );
  });

  it('reads the same rows from YAML', () => {
    const yaml = parseInventoryDocument('results: 1\nrows:\n  - name: y\n    chef_environment: dev\n', 'knife.yaml');
    assert.deepEqual(
      yaml.hosts.map((h) => [h.name, h.environment, h.origin]),
      [['y', 'dev', { file: 'knife.yaml', line: 3, col: 5 }]],
    );
  });
});
