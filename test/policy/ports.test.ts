import assert from 'node:assert/strict';
import { test } from 'node:test';
import { existsSync, readFileSync } from 'node:fs';
import { mergePorts, parsePorts } from '../../src/policy/ports.ts';
import { SERVICES_FILE, parseServicesFile } from '../../src/policy/services.ts';

test('single ports, numeric strings, ranges and service names', () => {
  assert.deepEqual(parsePorts(22), [{ from: 22, to: 22 }]);
  assert.deepEqual(parsePorts('27017'), [{ from: 27017, to: 27017 }]);
  assert.deepEqual(parsePorts('8000:8100'), [{ from: 8000, to: 8100 }]);
  assert.deepEqual(parsePorts('8000-8100'), [{ from: 8000, to: 8100 }]);
  assert.deepEqual(parsePorts('https'), [{ from: 443, to: 443 }]);
  assert.deepEqual(parsePorts('MongoDB'), [{ from: 27017, to: 27017 }]);
  assert.deepEqual(parsePorts('domain'), parsePorts('dns'));
  assert.deepEqual(parsePorts('postgres'), parsePorts(5432));
});

test('lists are sorted and overlapping or adjacent ranges merged', () => {
  assert.deepEqual(parsePorts([443, 'http', '81:90', 'http-alt', '8000-8080', 444]), [
    { from: 80, to: 90 },
    { from: 443, to: 444 },
    { from: 8000, to: 8080 },
  ]);
  assert.deepEqual(mergePorts([{ from: 5, to: 10 }, { from: 1, to: 3 }, { from: 2, to: 6 }]), [{ from: 1, to: 10 }]);
});

test('invalid ports are errors that say why', () => {
  assert.throws(() => parsePorts(0), /0: a port is a number from 1 to 65535/);
  assert.throws(() => parsePorts(65536), /a port is a number from 1 to 65535/);
  assert.throws(() => parsePorts('70000'), /"70000": a port is a number from 1 to 65535/);
  assert.throws(() => parsePorts(22.5), /a port is a number/);
  assert.throws(() => parsePorts('9000:8000'), /"9000:8000": the range starts after it ends \(did you mean 8000:9000\?\)/);
  assert.throws(() => parsePorts('1:70000'), /a port is a number from 1 to 65535/);
  assert.throws(() => parsePorts('htps'), /unknown service "htps" \(did you mean "https"\?\); give the port number instead/);
  assert.throws(() => parsePorts('frobnicator'), (e: Error) => e.message === 'unknown service "frobnicator"; give the port number instead');
  assert.throws(() => parsePorts(''), /empty port/);
  assert.throws(() => parsePorts([]), /empty port list/);
  assert.throws(() => parsePorts(true), /a port must be a number, a range like "8000:8100" or a service name, not a boolean/);
  assert.throws(() => parsePorts([80, null]), /not nothing/);
});

test('service names come from /etc/services first, then the built-in list', () => {
  const parsed = parseServicesFile('# comment\nxmpp-client\t5222/tcp\tjabber-client\t# Jabber\nbad\t70000/tcp\nmunin 4949/tcp lrrd\nmunin 4950/udp\n\nweird line\n');
  assert.deepEqual([...parsed], [['xmpp-client', 5222], ['jabber-client', 5222], ['munin', 4949], ['lrrd', 4949]]);
  if (existsSync(SERVICES_FILE) && /^xmpp-client\s+5222\/tcp/m.test(readFileSync(SERVICES_FILE, 'utf8'))) {
    assert.deepEqual(parsePorts('xmpp-client'), [{ from: 5222, to: 5222 }]);
  }
  assert.deepEqual(parsePorts('node-exporter'), [{ from: 9100, to: 9100 }]);
  assert.throws(() => parsePorts('postgres-exporter'), /unknown service "postgres-exporter".*give the port number instead/);
});
