/** The SSH-session guard: SSH_CONNECTION parsing and the verdict of the new input chain for the peer. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkSshPeer, parseSshConnection } from '../../src/apply/ssh-guard.ts';
import { fixture } from '../render/fixture.ts';

describe('SSH_CONNECTION', () => {
  it('parses IPv4, IPv6, zone ids and IPv4-mapped addresses', () => {
    assert.deepEqual(parseSshConnection('10.1.2.3 50000 10.0.1.11 22'), { clientIp: '10.1.2.3', clientPort: 50000, serverIp: '10.0.1.11', serverPort: 22 });
    assert.deepEqual(parseSshConnection('2001:db8::7 40000 2001:db8::11 2222\n'), { clientIp: '2001:db8::7', clientPort: 40000, serverIp: '2001:db8::11', serverPort: 2222 });
    assert.equal(parseSshConnection('fe80::1%eth0 1 fe80::2%eth0 22')?.clientIp, 'fe80::1');
    assert.equal(parseSshConnection('::ffff:10.1.2.3 1 ::ffff:10.0.1.11 22')?.clientIp, '10.1.2.3');
  });

  it('is null when absent or malformed', () => {
    for (const value of [undefined, '', '10.1.2.3 50000 10.0.1.11', 'x 1 10.0.1.11 22', '10.1.2.3 1 10.0.1.11 99999']) assert.equal(parseSshConnection(value), null, String(value));
  });
});

describe('the guard', () => {
  const peer = (conn: string) => parseSshConnection(conn) ?? assert.fail('unparsed');

  it('allows a peer the failsafe lets in', () => {
    const v = checkSshPeer(fixture(), peer('10.9.9.9 50000 10.0.1.11 22'), 'eth0');
    assert.equal(v.allowed, true);
    assert.match(v.reason, /failsafe in #1/);
  });

  it('refuses a peer outside the failsafe, naming the flow and --force', () => {
    const v = checkSshPeer(fixture(), peer('198.51.100.7 50000 10.0.1.11 22'), 'eth0');
    assert.equal(v.allowed, false);
    assert.match(v.reason, /198\.51\.100\.7 -> 10\.0\.1\.11:22 on eth0 would be dropped by the default policy \(drop\).*--force/);
  });

  it('refuses SSH on a port nothing opens, and mentions raw rules it could not evaluate', () => {
    const v = checkSshPeer(fixture(), peer('10.9.9.9 50000 10.0.1.11 2222'), 'eth0');
    assert.equal(v.allowed, false);
    assert.match(v.reason, /raw rules not evaluated on the way: Both/);
  });

  it('allows any peer through a ruleset that drops nothing', () => {
    const rs = { ...fixture(), chains: [] };
    assert.equal(checkSshPeer(rs, peer('198.51.100.7 50000 10.0.1.11 22'), null).allowed, true);
  });
});
