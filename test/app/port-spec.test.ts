/** The one port-spec parser (explain, trace, lab probe --port). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePortSpec, parseSinglePort, parseSocketPort } from '../../src/app/port-spec.ts';
import { UsageError } from '../../src/diagnostics.ts';

describe('parsePortSpec', () => {
  it('reads a port, a port with its protocol, a service name and a protocol without ports', () => {
    assert.deepEqual(parsePortSpec('443'), { protocol: 'tcp', port: 443 });
    assert.deepEqual(parsePortSpec('53/udp'), { protocol: 'udp', port: 53 });
    assert.deepEqual(parsePortSpec('domain/udp'), { protocol: 'udp', port: 53 });
    assert.deepEqual(parsePortSpec('icmp'), { protocol: 'icmp', port: null });
    assert.deepEqual(parsePortSpec('vrrp'), { protocol: 'vrrp', port: null });
  });

  it('refuses what is not one port of tcp or udp, as a usage error naming the input', () => {
    for (const [spec, message] of [
      ['tcp', /give a port, as in 443\/tcp/],
      ['all', /give a port, as in 443\/tcp/],
      ['22/icmp', /a port goes with tcp or udp, not icmp/],
      ['0', /port "0": .*1 to 65535/],
      ['80-90', /port "80-90" must be one port/],
      ['nosuchservice', /unknown service/],
    ] as const) {
      assert.throws(() => parsePortSpec(spec), (e: unknown) => e instanceof UsageError && message.test(e.message), spec);
    }
  });

  it('--sport and socket ports', () => {
    assert.equal(parseSinglePort('ssh', '--sport'), 22);
    assert.throws(() => parseSinglePort('1:2', '--sport'), /--sport "1:2" must be one port/);
    assert.deepEqual(parseSocketPort('5353/udp', '--port'), { protocol: 'udp', port: 5353 });
    assert.throws(() => parseSocketPort('icmp', '--port icmp'), /--port icmp: "icmp" is not a tcp or udp port/);
  });
});
