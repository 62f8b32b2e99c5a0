/**
 * TLS to etcd: a throwaway CA (openssl) signs the member's certificate; clients trust it through --cacert,
 * and where the member demands client certificates (mutual TLS) they present one with --cert/--key.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectEtcd } from '../../src/fleet/client.ts';
import { parseEtcdUrl } from '../../src/fleet/url.ts';
import { runCli } from '../helpers/cli.ts';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.ts';

function makeCa(dir: string): void {
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=palisade-test-ca', '-keyout', 'ca.key', '-out', 'ca.pem');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'san.cnf', '-out', 'server.pem');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=web-1', '-keyout', 'client.key', '-out', 'client.csr');
  writeFileSync(join(dir, 'client.cnf'), 'extendedKeyUsage=clientAuth\n');
  ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'client.cnf', '-out', 'client.pem');
}

describe('etcd over TLS', () => {
  let etcd: EtcdCluster;
  const dir = mkdtempSync(join(tmpdir(), 'palisade-tls-'));

  before(async () => {
    makeCa(dir);
    etcd = await startEtcd({
      scheme: 'https',
      flags: ['--cert-file', join(dir, 'server.pem'), '--key-file', join(dir, 'server.key')],
      ctlFlags: ['--cacert', join(dir, 'ca.pem')],
    });
  });
  after(async () => {
    await etcd?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects with --cacert, and fleet commands take it as a flag', async () => {
    const client = connectEtcd(parseEtcdUrl(etcd.url()), { cacert: join(dir, 'ca.pem') });
    try {
      await client.put('/palisade/hosts/tls-1').value(JSON.stringify({ name: 'tls-1', interfaces: { eth0: ['10.7.0.1'] } }));
    } finally {
      client.close();
    }
    const status = await runCli(['fleet', 'status', '--inventory', etcd.url(), '--cacert', join(dir, 'ca.pem'), '--format', 'json']);
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(JSON.parse(status.stdout).hosts.map((h: { host: string }) => h.host), ['tls-1']);
  });
});

describe('etcd over mutual TLS', () => {
  let etcd: EtcdCluster;
  const dir = mkdtempSync(join(tmpdir(), 'palisade-mtls-'));
  const file = (name: string): string => join(dir, name);

  before(async () => {
    makeCa(dir);
    etcd = await startEtcd({
      scheme: 'https',
      flags: ['--cert-file', file('server.pem'), '--key-file', file('server.key'), '--client-cert-auth', '--trusted-ca-file', file('ca.pem')],
      ctlFlags: ['--cacert', file('ca.pem'), '--cert', file('client.pem'), '--key', file('client.key')],
    });
  });
  after(async () => {
    await etcd?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a client without a certificate is refused; with --cert/--key it gets in', async () => {
    const refused = await runCli(['fleet', 'status', '--inventory', etcd.url(), '--cacert', file('ca.pem')]);
    assert.equal(refused.code, 1);
    const client = connectEtcd(parseEtcdUrl(etcd.url()), { cacert: file('ca.pem'), cert: file('client.pem'), key: file('client.key') });
    try {
      await client.put('/palisade/hosts/mtls-1').value(JSON.stringify({ name: 'mtls-1', interfaces: { eth0: ['10.7.0.2'] } }));
    } finally {
      client.close();
    }
    const status = await runCli(['fleet', 'status', '--inventory', etcd.url(), '--cacert', file('ca.pem'), '--cert', file('client.pem'), '--key', file('client.key'), '--format', 'json']);
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(JSON.parse(status.stdout).hosts.map((h: { host: string }) => h.host), ['mtls-1']);
  });
});
