/** Incremental set updates give exactly the ruleset a full compile gives, and say when they cannot. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FleetCompiler } from '../../src/compile/compile.ts';
import { changeElements, IncrementalRuleset } from '../../src/compile/incremental.ts';
import { parseInventoryDocument } from '../../src/inventory/document.ts';
import type { Host } from '../../src/inventory/types.ts';
import { parsePolicyFiles } from '../../src/policy/load.ts';

const POLICY = `settings: { input_drop: true }
rules:
  App from web, same tag:
    on: roles:app
    direction: in
    protocol: tcp
    source: roles:web AND SAMETAG
    dport: 8080
  Monitoring from anywhere:
    on: roles:app
    direction: in
    protocol: tcp
    source: roles:monitor
    dport: 9100
    options: [disable_env_limit]
  Backup host, pinned too:
    on: roles:app
    direction: in
    protocol: tcp
    source: [roles:backup, 10.0.9.9]
    dport: 873
`;

interface Row {
  name: string;
  environment: string;
  roles: string[];
  tags: string[];
  address: string;
}

const host = (r: Row) => ({ name: r.name, environment: r.environment, roles: r.roles, tags: r.tags, interfaces: { eth0: [r.address, `2001:db8::${r.address.split('.')[3]}`] }, lan: 'eth0' });
const rows: Row[] = [
  { name: 'app-1', environment: 'prod', roles: ['app'], tags: ['shop'], address: '10.0.0.1' },
  { name: 'web-1', environment: 'prod', roles: ['web'], tags: ['shop'], address: '10.0.0.20' },
  { name: 'web-2', environment: 'prod', roles: ['web'], tags: ['blog'], address: '10.0.0.21' },
  { name: 'mon-1', environment: 'dev', roles: ['monitor'], tags: [], address: '10.0.0.30' },
];
const policy = parsePolicyFiles([{ path: 'policy.yaml', text: POLICY }]).policy;
const compilerOf = (list: Row[]) => new FleetCompiler({ policy, inventory: parseInventoryDocument(JSON.stringify({ hosts: list.map(host) }), 'inventory.json'), names: new Map(), now: 0 });
const record = (list: Row[], name: string): Host | null => compilerOf(list).host(name) ?? null;

describe('incremental rulesets', () => {
  it('follows joins, leaves and moves of other hosts as element changes equal to a full compile; drops the irrelevant', () => {
    let fleet = [...rows];
    const compiler = compilerOf(fleet);
    const incremental = new IncrementalRuleset(compiler, compiler.compile('app-1'), compiler.host('app-1') as Host);
    const change = (next: Row[], name: string): string => {
      fleet = next;
      return incremental.note(name, () => ({ host: record(next, name), contested: false }));
    };
    assert.equal(change([...fleet, { name: 'web-3', environment: 'prod', roles: ['web'], tags: ['blog'], address: '10.0.0.22' }], 'web-3'), 'irrelevant', 'no shared tag');
    assert.equal(change([...fleet, { name: 'web-4', environment: 'dev', roles: ['web'], tags: ['shop'], address: '10.0.0.23' }], 'web-4'), 'irrelevant', 'another environment');
    assert.equal(change([...fleet, { name: 'web-5', environment: 'prod', roles: ['web'], tags: ['shop', 'x'], address: '10.0.0.2' }], 'web-5'), 'elements');
    assert.equal(change([...fleet, { name: 'mon-2', environment: 'qa', roles: ['monitor'], tags: [], address: '10.0.0.250' }], 'mon-2'), 'elements', 'disable_env_limit');
    assert.equal(change([...fleet, { name: 'bk-1', environment: 'prod', roles: ['backup'], tags: [], address: '10.0.9.9' }], 'bk-1'), 'elements');
    assert.equal(change(fleet.filter((r) => r.name !== 'web-1'), 'web-1'), 'elements', 'a leave');
    assert.equal(change(fleet.map((r) => (r.name === 'web-2' ? { ...r, tags: ['shop'] } : r)), 'web-2'), 'elements', 'a host moving into a set');
    assert.deepEqual(incremental.update(), compilerOf(fleet).compile('app-1'));
    assert.equal(change(fleet.filter((r) => r.name !== 'bk-1'), 'bk-1'), 'elements', 'its IPv6 address leaves, its IPv4 address stays: the rule lists it too');
    assert.deepEqual(incremental.update(), compilerOf(fleet).compile('app-1'));
    assert.ok(incremental.update().sets.some((s) => s.elements.includes('10.0.9.9')));
  });

  it('asks for a compile for itself, a contested address, a host a rule names, a set holding networks', () => {
    const compiler = compilerOf(rows);
    const incremental = new IncrementalRuleset(compiler, compiler.compile('app-1'), compiler.host('app-1') as Host);
    const none = () => ({ host: null, contested: false });
    assert.equal(incremental.note('app-1', none), 'recompile');
    assert.equal(incremental.note('web-1', () => ({ host: null, contested: true })), 'recompile');
    const named = parsePolicyFiles([{ path: 'p.yaml', text: 'rules:\n  R:\n    direction: in\n    protocol: tcp\n    source: [backup-1, 10.1.0.0/16, roles:web]\n    dport: 1\n' }]).policy;
    const other = new FleetCompiler({ policy: named, inventory: parseInventoryDocument(JSON.stringify({ hosts: rows.map(host) }), 'i.json'), names: new Map(), now: 0 });
    const byName = new IncrementalRuleset(other, other.compile('app-1'), other.host('app-1') as Host);
    assert.equal(byName.note('Backup-1', none), 'recompile');
    assert.equal(byName.note('web-1', none), 'recompile', 'the set holds 10.1.0.0/16');
  });

  it('changes sorted elements in place of order, v4 and v6', () => {
    assert.deepEqual(changeElements(['10.0.0.2', '10.0.0.10'], new Map([['10.0.0.9', true], ['10.0.0.2', false], ['10.0.0.10', true]])), ['10.0.0.9', '10.0.0.10']);
    assert.deepEqual(changeElements(['2001:db8::2', '2001:db8::10'], new Map([['2001:db8::3', true]])), ['2001:db8::2', '2001:db8::3', '2001:db8::10']);
  });
});
