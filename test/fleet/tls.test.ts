/** TLS to etcd: a throwaway CA (openssl) signs the member's certificate; clients trust it through --cacert. */
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
