/**
 * The console over TLS with client authentication, as `--tls-cert/--tls-key/--tls-client-ca` start it: certificates
 * made by openssl for the test; a client with a certificate the CA signed gets the API, one without a certificate or
 * with another CA's is refused during the handshake, before any request is read.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { fileConsoleSource, type ConsoleSource } from '../../src/app/console.ts';
import { consoleAssets } from '../../src/console/assets.ts';
import { startConsoleServer, type RunningConsole } from '../../src/console/server.ts';
import { tempDir } from '../helpers/tmp.ts';

const skip = spawnSync('openssl', ['version']).status === 0 ? false : 'needs openssl';

describe('the console with TLS client authentication', { skip }, () => {
  const dir = tempDir('palisade-console-tls-');
  const file = (name: string): string => join(dir, name);
  const pem = (name: string): string => readFileSync(file(name), 'utf8');
  const openssl = (...args: string[]): void => {
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  };
  /** A CA (self-signed); a certificate a CA signs, with these extensions. */
  const ca = (name: string): void => openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${name}`, '-keyout', file(`${name}.key`), '-out', file(`${name}.crt`));
  const signed = (name: string, by: string, extensions: string): void => {
    writeFileSync(file(`${name}.ext`), extensions);
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`));
    openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${by}.crt`), '-CAkey', file(`${by}.key`), '-CAcreateserial', '-days', '1', '-extfile', file(`${name}.ext`), '-out', file(`${name}.crt`));
  };
  let source: ConsoleSource;
  let server: RunningConsole;

  before(async () => {
    ca('ca');
    ca('other-ca');
    signed('server', 'ca', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    signed('admin', 'ca', 'extendedKeyUsage=clientAuth\n');
    signed('intruder', 'other-ca', 'extendedKeyUsage=clientAuth\n');
    source = await fileConsoleSource({});
    server = await startConsoleServer(source, await consoleAssets(), {
      host: '127.0.0.1',
      port: 0,
      token: null,
      tls: { cert: pem('server.crt'), key: pem('server.key'), ca: pem('ca.crt') },
    });
  });

  after(async () => {
    await server?.close();
    await source?.close();
  });

  /** The status of GET /api/hosts, or the TLS error that ended the connection. */
  const get = (client: 'admin' | 'intruder' | null): Promise<number | string> =>
    new Promise((resolve) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: server.port,
          path: '/api/hosts',
          headers: { host: `127.0.0.1:${server.port}` },
          ca: pem('ca.crt'),
          ...(client === null ? {} : { cert: pem(`${client}.crt`), key: pem(`${client}.key`) }),
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      req.end();
    });

  it('serves HTTPS to a client whose certificate the CA signed', async () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
    assert.equal(await get('admin'), 200);
  });

  it('refuses a client without a certificate, or with one another CA signed, before any request', async () => {
    for (const client of [null, 'intruder'] as const) {
      const outcome = await get(client);
      assert.equal(typeof outcome, 'string', `${client ?? 'no certificate'}: got HTTP ${outcome}`);
    }
  });
});
