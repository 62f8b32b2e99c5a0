/**
 * JSON inventories find where a host was written only when a diagnostic needs it: errors and warnings still
 * point at their line and column, also at the end of a large file and in hostile documents.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError, type Diagnostic } from '../../src/diagnostics.ts';
import { hostPositions } from '../../src/inventory/by-name.ts';
import { parseInventoryDocument } from '../../src/inventory/document.ts';

function problems(text: string): Diagnostic[] {
  try {
    parseInventoryDocument(text, 'inv.json');
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    return e.diagnostics;
  }
  assert.fail('expected an InputError');
}

const fleet = (count: number) =>
  Array.from({ length: count }, (_, i): Record<string, unknown> => ({
    name: `h${i}`,
    roles: ['web'],
    interfaces: { eth0: [`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, `2001:db8::${i.toString(16)}`] },
    users: { root: 0, app: 1000 },
  }));

/** Line and column (1-based) of the first occurrence of `needle` at or after `from`. */
function placeOf(text: string, needle: string, from = 0): { line: number; col: number } {
  const offset = text.indexOf(needle, from);
  assert.notEqual(offset, -1, needle);
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, col: (before.at(-1)?.length ?? 0) + 1 };
}

/** Where the host named `name` starts (its `{`) in JSON written by JSON.stringify. */
function hostStart(text: string, name: string): { line: number; col: number } {
  const nameAt = text.indexOf(`"name": "${name}"`) === -1 ? text.indexOf(`"name":"${name}"`) : text.indexOf(`"name": "${name}"`);
  return placeOf(text, '{', text.lastIndexOf('{', nameAt));
}

describe('errors of a large JSON inventory', () => {
  const hosts = fleet(10_000);

  it('a bad host at the end of a 10,000-host file is refused at its line and column, pretty-printed or on one line', () => {
    for (const indent of [2, 0]) {
      const text = JSON.stringify({ hosts: [...hosts.slice(0, -1), { ...hosts.at(-1), interfaces: { eth0: ['10.255.0.1', 'fe80::1'] } }] }, null, indent);
      const found = problems(text);
      assert.deepEqual(
        found.map((d) => [d.host, d.line, d.col, d.message.slice(0, 40)]),
        [['h9999', placeOf(text, '"fe80::1"').line, placeOf(text, '"fe80::1"').col, 'fe80::1 is a link-local address, valid o']],
        `indent ${indent}`,
      );
    }
  });

  it('a name taken twice at the end of the file points at both lines', () => {
    const text = JSON.stringify({ hosts: [...hosts, { name: 'h17', interfaces: { eth0: ['10.254.0.1'] } }] }, null, 2);
    const found = problems(text);
    const first = placeOf(text, '"h17"');
    const again = placeOf(text, '"h17"', text.lastIndexOf('"name": "h17"'));
    assert.deepEqual(
      found.map((d) => [d.host, d.line, d.col, d.message]),
      [['h17', again.line, again.col, `duplicate host name "h17" (first declared at line ${first.line})`]],
    );
  });
});

describe('warnings of a JSON inventory, placed where their host starts', () => {
  it('an address claimed twice, users sharing a uid and a host without an address, far into the file', () => {
    const hosts = fleet(5000);
    hosts[3000] = { ...hosts[3000], interfaces: { eth0: ['10.0.0.7'] } };
    hosts[4000] = { ...hosts[4000], users: { root: 0, toor: 0 } };
    hosts[4999] = { name: 'h4999', interfaces: {} };
    for (const indent of [2, 0]) {
      const text = JSON.stringify({ hosts }, null, indent);
      const inventory = parseInventoryDocument(text, 'inv.json');
      assert.equal(inventory.hosts.length, 5000);
      assert.deepEqual(
        inventory.diagnostics.map((d) => [d.severity, d.host, d.line, d.col, d.message.slice(0, 36)]),
        [
          ['warning', 'h3000', hostStart(text, 'h3000').line, hostStart(text, 'h3000').col, 'address 10.0.0.7 is claimed by both '],
          ['warning', 'h4000', hostStart(text, 'h4000').line, hostStart(text, 'h4000').col, 'users root and toor share uid 0: the'],
          ['warning', 'h4999', hostStart(text, 'h4999').line, hostStart(text, 'h4999').col, 'it has no address: rules selecting i'],
        ],
        `indent ${indent}`,
      );
      assert.deepEqual(inventory.hosts[4000]?.origin, { file: 'inv.json', ...hostStart(text, 'h4000') });
    }
  });

  it('hosts without warnings still know where they start, and their facts do not include it', () => {
    const text = JSON.stringify({ hosts: fleet(3) }, null, 2);
    const inventory = parseInventoryDocument(text, 'inv.json');
    assert.deepEqual(inventory.hosts[2]?.origin, { file: 'inv.json', ...hostStart(text, 'h2') });
    assert.equal(Object.keys(inventory.hosts[2] ?? {}).includes('origin'), false);
    assert.deepEqual(Object.keys(inventory.hosts[2] ?? {}), ['name', 'environment', 'roles', 'tags', 'interfaces', 'users', 'attributes', 'addresses']);
  });

  it('a key written twice: positions follow the list JSON.parse keeps', () => {
    const hosts = fleet(3);
    hosts[2] = { name: 'h2', interfaces: {} };
    const text = `{"hosts": [{"name": "decoy", "interfaces": {}}],\n"hosts": ${JSON.stringify(hosts, null, 2)}}`;
    const inventory = parseInventoryDocument(text, 'inv.json');
    assert.deepEqual(inventory.hosts.map((h) => h.name), ['h0', 'h1', 'h2']);
    assert.deepEqual(
      inventory.diagnostics.map((d) => [d.host, d.line, d.col]),
      [['h2', hostStart(text, 'h2').line, hostStart(text, 'h2').col]],
    );
  });

  it('the map of hosts by name built while checking names is the one any other reader would build', () => {
    const inventory = parseInventoryDocument(JSON.stringify({ hosts: fleet(50) }), 'inv.json');
    assert.deepEqual([...hostPositions(inventory.hosts)], inventory.hosts.map((h, i) => [h.name, i]));
    assert.deepEqual([...hostPositions([...inventory.hosts])], [...hostPositions(inventory.hosts)]);
  });
});

describe('hostile JSON inventories: a clear error at a position, never a crash', () => {
  const base = '"name": "a", "interfaces": {"eth0": ["10.0.0.1"]}';
  const deepObject = `${'{"k":'.repeat(10_000)}"x"${'}'.repeat(10_000)}`;
  const deepList = `${'['.repeat(10_000)}"x"${']'.repeat(10_000)}`;
  const second = '{"name": "b", "interfaces": {"eth0": ["127.0.0.1"]}}';

  it('a value nested 10,000 deep in a host: attributes refused, other fields named without their value', () => {
    const cases: Array<[string, RegExp]> = [
      [`{${base}, "attributes": {"d": ${deepObject}}}`, /^attributes may be nested 64 levels deep at most/],
      [`{${base}, "roles": [${deepList}]}`, /^roles must be non-empty strings, not \(a value nested too deeply to show\)$/],
      [`{${base}, "users": {"app": ${deepObject}}}`, /^uid of "app" must be an integer from 0 to \d+, not \(a value nested too deeply to show\)$/],
      [`{${base}, "unknown": ${deepList}}`, /^unknown host field "unknown"/],
    ];
    for (const [entry, message] of cases) {
      const text = `{"hosts": [\n  {"name": "first", "interfaces": {}},\n  ${entry},\n  ${second}\n]}`;
      const found = problems(text);
      assert.deepEqual(
        found.map((d) => [d.host, d.line, d.col]),
        [
          ['a', 3, 3],
          ['b', 4, 3],
        ],
        entry.slice(0, 60),
      );
      assert.match(found[0]?.message ?? '', message);
    }
  });

  it('attributes nested as deep as allowed are kept, one level more is refused at its line', () => {
    const nested = (levels: number) => `${'{"k":'.repeat(levels)}1${'}'.repeat(levels)}`;
    const inventory = parseInventoryDocument(`{"hosts": [{${base}, "attributes": ${nested(64)}}]}`, 'inv.json');
    assert.equal(inventory.hosts.length, 1);
    assert.match(inventory.revision, /^[0-9a-f]{16}$/);
    const found = problems(`{"hosts": [\n{${base},\n"attributes": ${nested(65)}}]}`);
    assert.deepEqual(
      found.map((d) => [d.host, d.line]),
      [['a', 3]],
    );
  });

  it('a huge string: refused at its position with a message of bounded length', () => {
    const huge = `10.0.0.${'9'.repeat(2_000_000)}`;
    const text = `{"hosts": [\n  {"name": "first", "interfaces": {}},\n  {"name": "a", "roles": ["${'r'.repeat(1_000_000)}"], "interfaces": {"eth0": ["${huge}"]}}\n]}`;
    const found = problems(text);
    assert.equal(found.length, 1);
    assert.deepEqual([found[0]?.host, found[0]?.line, found[0]?.col], ['a', 3, placeOf(text, `"${huge.slice(0, 20)}`).col]);
    assert.ok((found[0]?.message.length ?? 0) < 300, found[0]?.message.slice(0, 300));
  });
});
