/** parseInventoryDocument: shapes, derived fields, every validation error with its position, warnings, revision. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { InputError, formatDiagnostic, type Diagnostic } from '../../src/diagnostics.ts';
import { parseInventoryDocument } from '../../src/inventory/document.ts';
import { plainYaml } from '../../src/plain-yaml.ts';

function problems(text: string): Diagnostic[] {
  try {
    parseInventoryDocument(text, 'inv.yaml');
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    return e.diagnostics;
  }
  assert.fail('expected an InputError');
}

/** The single error of `text`, checked for its message, host and position. */
function onlyError(text: string, message: RegExp, where: { host?: string; line: number; col: number }): void {
  const found = problems(text);
  assert.equal(found.length, 1, found.map(formatDiagnostic).join('\n'));
  const [d] = found;
  assert.match(d?.message ?? '', message);
  assert.deepEqual({ severity: d?.severity, file: d?.file, host: d?.host, line: d?.line, col: d?.col }, { severity: 'error', file: 'inv.yaml', ...where, host: where.host });
}

const host = (body: string) => `hosts:\n  - name: h1\n${body}`;

describe('a valid inventory', () => {
  const inventory = parseInventoryDocument(
    `hosts:
  - name: web-1
    environment: production
    roles: [webserver, webserver]
    tags: shop
    interfaces: { eth0: [10.0.1.11, "2001:DB8:0::11", 10.0.1.2], eth1: 192.168.9.9 }
    lan: eth0
    users: { www-data: 33, root: 0 }
    attributes: { rack: r12, nested: { a: [1, 2] } }
  - name: db-1
    interfaces: { eth0: [10.0.2.21], eth1: ["2001:db8::21"] }
`,
    'inv.yaml',
  );
  const [web, db] = inventory.hosts;

  it('keeps the fields, canonical and de-duplicated', () => {
    assert.equal(inventory.hosts.length, 2);
    assert.equal(web?.name, 'web-1');
    assert.deepEqual(web?.roles, ['webserver']);
    assert.deepEqual(web?.tags, ['shop']);
    assert.deepEqual(web?.interfaces, { eth0: ['10.0.1.11', '2001:db8::11', '10.0.1.2'], eth1: ['192.168.9.9'] });
    assert.deepEqual(web?.users, { 'www-data': 33, root: 0 });
    assert.deepEqual(web?.attributes, { rack: 'r12', nested: { a: [1, 2] } });
    assert.deepEqual(web?.origin, { file: 'inv.yaml', line: 2, col: 5 });
    assert.equal(inventory.source, 'inv.yaml');
    assert.deepEqual(inventory.diagnostics, []);
  });

  it('derives addresses from the lan interface, sorted', () => {
    assert.deepEqual(web?.addresses, { v4: ['10.0.1.2', '10.0.1.11'], v6: ['2001:db8::11'] });
  });

  it('derives addresses from every interface without a lan, and defaults the rest', () => {
    assert.deepEqual(db?.addresses, { v4: ['10.0.2.21'], v6: ['2001:db8::21'] });
    assert.equal(db?.environment, '_default');
    assert.equal(db?.lan, undefined);
    assert.deepEqual([db?.roles, db?.tags, db?.users, db?.attributes], [[], [], {}, {}]);
  });

  it('has a revision stable across key order and formatting', () => {
    const a = parseInventoryDocument('hosts:\n  - { name: a, roles: [x], interfaces: { eth0: 10.0.0.1 }, attributes: { p: 1, q: 2 } }\n', 'a.yaml');
    const b = parseInventoryDocument(
      '{"hosts": [{"attributes": {"q": 2, "p": 1},\n "interfaces": {"eth0": ["10.0.0.1"]}, "roles": "x", "name": "a"}]}',
      'b.json',
    );
    const c = parseInventoryDocument('hosts:\n  - { name: a, roles: [y], interfaces: { eth0: 10.0.0.1 }, attributes: { p: 1, q: 2 } }\n', 'a.yaml');
    assert.match(a.revision, /^[0-9a-f]{16}$/);
    assert.equal(a.revision, b.revision);
    assert.notEqual(a.revision, c.revision);
  });

  it('accepts a bare list of hosts and an empty hosts list', () => {
    assert.equal(parseInventoryDocument('- name: a\n  interfaces: { eth0: 10.0.0.1 }\n', 'x').hosts[0]?.name, 'a');
    assert.deepEqual(parseInventoryDocument('hosts: []\n', 'x').hosts, []);
  });
});

describe('errors, each with its message, host and position', () => {
  it('reports YAML syntax errors', () => {
    onlyError('hosts:\n  - name: [a\n', /YAML syntax/, { line: 3, col: 1 });
  });

  it('reports a document of the wrong shape and unknown top-level fields', () => {
    onlyError('servers: []\n', /no hosts: expected `hosts:`/, { line: 1, col: 1 });
    onlyError('hosts: []\nhost: []\n', /unknown top-level field "host" \(did you mean "hosts"\?\)/, { line: 2, col: 1 });
    onlyError('', /no hosts/, { line: 1, col: 1 });
  });

  it('reports unknown host fields with a suggestion', () => {
    onlyError(host('    interface: { eth0: 10.0.0.1 }\n'), /unknown host field "interface" \(did you mean "interfaces"\?\)/, { host: 'h1', line: 3, col: 5 });
    onlyError(host('    role: web\n'), /unknown host field "role" \(did you mean "roles"\?\)/, { host: 'h1', line: 3, col: 5 });
    onlyError(host('    chef_environment: prod\n'), /did you mean "environment"/, { host: 'h1', line: 3, col: 5 });
  });

  it('reports missing and invalid names', () => {
    onlyError('hosts:\n  - roles: [web]\n', /missing name/, { line: 2, col: 5 });
    onlyError('hosts:\n  - name: -web\n', /invalid host name "-web"/, { host: '-web', line: 2, col: 11 });
    onlyError('hosts:\n  - name: web/1\n', /invalid host name/, { host: 'web/1', line: 2, col: 11 });
    onlyError(`hosts:\n  - name: ${'a'.repeat(254)}\n`, /at most 253/, { host: 'a'.repeat(254), line: 2, col: 11 });
    onlyError('hosts:\n  - name: 42\n', /name must be a string/, { line: 2, col: 11 });
    onlyError('hosts:\n  - just-a-string\n', /a host must be a mapping/, { line: 2, col: 5 });
  });

  it('reports duplicate names, naming the first line', () => {
    onlyError('hosts:\n  - name: a\n  - name: b\n  - name: a\n', /duplicate host name "a" \(first declared at line 2\)/, { host: 'a', line: 4, col: 11 });
  });

  it('reports invalid environments', () => {
    onlyError(host('    environment: "prod env"\n'), /invalid environment name "prod env"/, { host: 'h1', line: 3, col: 18 });
  });

  it('reports roles and tags that are not lists of non-empty strings', () => {
    onlyError(host('    roles: [web, ""]\n'), /roles must be non-empty strings/, { host: 'h1', line: 3, col: 18 });
    onlyError(host('    tags: { a: 1 }\n'), /tags must be a list/, { host: 'h1', line: 3, col: 11 });
    onlyError(host('    tags: [1]\n'), /tags must be non-empty strings, not 1/, { host: 'h1', line: 3, col: 12 });
  });

  it('reports invalid interfaces and interface names', () => {
    onlyError(host('    interfaces: [10.0.0.1]\n'), /interfaces must be a mapping/, { host: 'h1', line: 3, col: 17 });
    onlyError(host('    interfaces: { "eth0:1": 10.0.0.1 }\n'), /invalid interface name "eth0:1"/, { host: 'h1', line: 3, col: 19 });
    onlyError(host('    interfaces: { averyveryverylongname: 10.0.0.1 }\n'), /invalid interface name/, { host: 'h1', line: 3, col: 19 });
    onlyError(host('    interfaces: { "et h0": 10.0.0.1 }\n'), /invalid interface name/, { host: 'h1', line: 3, col: 19 });
  });

  it('reports a lan that is not one of the interfaces', () => {
    onlyError(host('    interfaces: { eth0: 10.0.0.1 }\n    lan: eht0\n'), /lan "eht0" is not one of the host's interfaces \(did you mean "eth0"\?\)/, {
      host: 'h1',
      line: 4,
      col: 10,
    });
  });

  it('reports invalid users and uids', () => {
    onlyError(host('    users: { "bad user": 1 }\n'), /invalid user name "bad user"/, { host: 'h1', line: 3, col: 14 });
    onlyError(host('    users: { www: -1 }\n'), /uid of "www" must be an integer from 0 to 4294967294, not -1/, { host: 'h1', line: 3, col: 19 });
    onlyError(host('    users: { www: 4294967295 }\n'), /uid of "www"/, { host: 'h1', line: 3, col: 19 });
    onlyError(host('    users: { www: "33" }\n'), /uid of "www"/, { host: 'h1', line: 3, col: 19 });
    onlyError(host('    users: [www]\n'), /users must be a mapping/, { host: 'h1', line: 3, col: 12 });
  });

  it('reports attributes that are not a mapping', () => {
    onlyError(host('    attributes: [a]\n'), /attributes must be a mapping/, { host: 'h1', line: 3, col: 17 });
  });

  describe('addresses that are not one host', () => {
    const cases: [string, RegExp][] = [
      ['10.0.0.0/24', /10\.0\.0\.0\/24: a host address must be a single address, not a network/],
      ['10.0.0.1/32', /not a network/],
      ['"2001:db8::/64"', /not a network/],
      ['0.0.0.0', /0\.0\.0\.0 is unspecified/],
      ['"::"', /:: is unspecified/],
      ['127.0.0.1', /127\.0\.0\.1 is a loopback address/],
      ['127.8.8.8', /is a loopback address/],
      ['"::1"', /::1 is a loopback address/],
      ['224.0.0.5', /is a multicast address/],
      ['"ff02::1"', /is a multicast address/],
      ['255.255.255.255', /is the broadcast address/],
      ['"fe80::1%eth0"', /has a zone index \(%eth0\)/],
      ['"::ffff:10.0.0.1"', /IPv4-mapped IPv6 address: write it as 10\.0\.0\.1/],
      ['10.0.0', /"10\.0\.0" is not an IP address: expected a single IPv4/],
      ['010.0.0.1', /is not an IP address/],
      ['web-2', /"web-2" is not an IP address/],
      ['10.0.0.1/33', /not an IP address.*without a prefix length/],
      ['42', /42 is not an IP address/],
    ];
    for (const [address, message] of cases) {
      it(`refuses ${address}`, () => onlyError(host(`    interfaces: { eth0: [${address}] }\n`), message, { host: 'h1', line: 3, col: 26 }));
    }
  });

  it('reports every error of the file at once, in file order', () => {
    const found = problems(`hosts:
  - name: a
    interfaces: { eth0: 10.0.0.0/8 }
  - name: b
    role: web
  - name: a
`);
    assert.deepEqual(
      found.map((d) => [d.severity, d.host, d.line, d.col]),
      [
        ['error', 'a', 3, 25],
        ['error', 'b', 5, 5],
        ['error', 'a', 6, 11],
      ],
    );
  });
});

describe('warnings', () => {
  it('reports two hosts claiming one address, naming both', () => {
    const inventory = parseInventoryDocument(
      `hosts:
  - { name: a, interfaces: { eth0: [10.0.0.1] } }
  - { name: b, interfaces: { eth0: [10.0.0.2, 10.0.0.1] } }
`,
      'inv.yaml',
    );
    assert.equal(inventory.hosts.length, 2);
    assert.deepEqual(inventory.diagnostics, [
      { severity: 'warning', message: 'address 10.0.0.1 is claimed by both a and b', file: 'inv.yaml', line: 3, col: 47, host: 'b' },
    ]);
  });

  it('ignores a shared address off the lan interface', () => {
    const inventory = parseInventoryDocument(
      `hosts:
  - { name: a, interfaces: { eth0: [10.0.0.1], docker0: [172.17.0.1] }, lan: eth0 }
  - { name: b, interfaces: { eth0: [10.0.0.2], docker0: [172.17.0.1] }, lan: eth0 }
`,
      'inv.yaml',
    );
    assert.deepEqual(inventory.diagnostics, []);
  });

  it('reports a host without an address', () => {
    const inventory = parseInventoryDocument('hosts:\n  - name: a\n  - { name: b, interfaces: { eth0: 10.0.0.1, eth1: [] }, lan: eth1 }\n', 'inv.yaml');
    assert.deepEqual(
      inventory.diagnostics.map((d) => [d.severity, d.host, d.line, d.message]),
      [
        ['warning', 'a', 2, 'it has no address: rules selecting it match nothing'],
        ['warning', 'b', 3, 'its lan interface eth1 has no address: rules selecting it match nothing'],
      ],
    );
  });
});

describe('JSON documents (JSON.parse, positions recovered on error)', () => {
  const yaml = 'hosts:\n  - name: a\n    roles: [web]\n    interfaces: { eth0: [10.0.0.1] }\n  - name: b\n    interfaces: { eth0: [10.0.0.2] }\n';
  const hosts = [
    { name: 'a', roles: ['web'], interfaces: { eth0: ['10.0.0.1'] } },
    { name: 'b', interfaces: { eth0: ['10.0.0.2'] } },
  ];

  it('reads hosts and bare lists like YAML, with the same revision, each host placed at its line', () => {
    const fromYaml = parseInventoryDocument(yaml, 'inv.yaml');
    for (const text of [JSON.stringify({ hosts }, null, 2), JSON.stringify(hosts, null, 2)]) {
      const fromJson = parseInventoryDocument(text, 'inv.json');
      assert.equal(fromJson.revision, fromYaml.revision);
      assert.deepEqual(
        fromJson.hosts.map((h) => h.name),
        ['a', 'b'],
      );
      const lines = text.split('\n');
      for (const h of fromJson.hosts) assert.match(lines[(h.origin?.line ?? 0) - 1]?.slice((h.origin?.col ?? 0) - 1) ?? '', /^\{/);
    }
  });

  it('an error in a JSON document points at its line and column', () => {
    const text = JSON.stringify({ hosts: [hosts[0], { name: 'b', interfaces: { 'eth0@if5': ['10.0.0.2'] } }] }, null, 2);
    const found = (() => {
      try {
        parseInventoryDocument(text, 'inv.json');
      } catch (e) {
        return (e as InputError).diagnostics;
      }
      return [];
    })();
    const line = text.split('\n').findIndex((l) => l.includes('eth0@if5')) + 1;
    assert.deepEqual(
      found.map((d) => [d.host, d.line, d.message.slice(0, 32)]),
      [['b', line, 'invalid interface name "eth0@if5']],
    );
    assert.ok((found[0]?.col ?? 0) > 1);
  });

  it('a hostile or no-one-machine address of one host among thousands is refused at its line, whichever parser judges it', () => {
    const many = Array.from({ length: 3000 }, (_, i) => ({ name: `h${i}`, interfaces: { eth0: [`10.1.${i >> 8}.${i & 255}`, `2001:db8::${i.toString(16)}`] } }));
    for (const bad of ['10.9.9.9; flush ruleset', '127.0.0.1', 'fe80::1', '::ffff:a00:1', '2001:db8::1%eth0', '10.0.0.1/8', '010.0.0.1', '1:2:3:4:5:6:7:8:9']) {
      const text = JSON.stringify({ hosts: many.map((h, i) => (i === 2500 ? { ...h, interfaces: { eth0: [bad] } } : h)) }, null, 1);
      const found = problems(text);
      const line = text.split('\n').findIndex((l) => l.includes(JSON.stringify(bad))) + 1;
      assert.deepEqual(
        found.map((d) => [d.host, d.line]),
        [['h2500', line]],
        bad,
      );
    }
  });

  it('JSON with another top-level field or a syntax error goes to the positioned parser, which says why', () => {
    assert.match(problems(JSON.stringify({ hosts, extra: 1 }))[0]?.message ?? '', /unknown top-level field "extra"/);
    assert.equal(problems('{"hosts": [\n  {"name": "a" "b"}\n]}')[0]?.line, 2);
  });
});

it('YAML nested thousands deep is an error at its position, said as nesting (not a stack overflow)', () => {
  for (const deep of [`hosts:\n  - name: a\n    attributes:\n      x: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`, `hosts:\n  - name: a\n    attributes:\n${Array.from({ length: 3000 }, (_, i) => `${' '.repeat(6 + 2 * i)}k:\n`).join('')}`]) {
    assert.throws(
      () => parseInventoryDocument(deep, 'deep.yaml'),
      (e: unknown) => e instanceof InputError && e.diagnostics.length === 1 && /^YAML syntax: nested too deeply to read/.test(e.diagnostics[0]?.message ?? '') && (e.diagnostics[0]?.line ?? 0) >= 4,
    );
  }
});

it('a YAML inventory read fast (js-yaml) gives the hosts, revision and warnings, at their lines, that the positioned parse gives', () => {
  const example = readFileSync(new URL('../../examples/shop/inventory.yaml', import.meta.url), 'utf8');
  const warned = 'hosts:\n  - name: a\n    interfaces: { eth0: [10.0.0.1] }\n    users: { app: 1001, api: 1001 }\n  - name: b\n    interfaces:\n      eth0: [10.0.0.2, 10.0.0.1]\n  - name: c\n';
  for (const text of [example, warned]) {
    assert.notEqual(plainYaml(text), null, 'read fast');
    /* A tab in a comment is a form the fast reader leaves to yaml: the same document, read with positions. */
    const positioned = `${text}#\tread with positions\n`;
    assert.equal(plainYaml(positioned), null);
    const fast = parseInventoryDocument(text, 'inv.yaml');
    const slow = parseInventoryDocument(positioned, 'inv.yaml');
    const facts = (hosts: unknown): unknown => JSON.parse(JSON.stringify(hosts, (key: string, value: unknown) => (key === 'origin' ? undefined : value)));
    assert.deepEqual(facts(fast.hosts), facts(slow.hosts));
    assert.equal(fast.revision, slow.revision);
    assert.deepEqual(fast.diagnostics, slow.diagnostics);
    assert.deepEqual(
      fast.hosts.map((h) => h.origin),
      slow.hosts.map((h) => h.origin),
    );
  }
  assert.deepEqual(
    parseInventoryDocument(warned, 'inv.yaml').diagnostics.map((d) => [d.host, d.line]),
    [
      ['a', 4],
      ['b', 7],
      ['c', 8],
    ],
  );
});
