/** The log, conntrack, ss and trace parsers on outputs recorded from the real tools (test/audit/fixtures/capture.sh). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseConntrack } from '../../src/audit/conntrack.ts';
import { parseLogText } from '../../src/audit/collect.ts';
import { parseKernelLogLine } from '../../src/audit/kernel-log.ts';
import { isListening, parseSs, splitEndpoint } from '../../src/audit/ss.ts';
import { decisions, parseTrace } from '../../src/audit/trace-events.ts';
import { parseUlogdLine } from '../../src/audit/ulogd.ts';

const fixture = (name: string): string => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');
const pick = <T extends object, K extends keyof T>(items: readonly T[], keys: K[]): Array<Pick<T, K>> =>
  items.map((item) => Object.fromEntries(keys.map((k) => [k, item[k]])) as Pick<T, K>);

test('ulogd2 JSON: the server namespace logged the forgotten tcp and udp flows (and IPv6 MLD noise)', () => {
  const records = fixture('ulogd-server.json').split('\n').flatMap((l) => parseUlogdLine(l) ?? []);
  assert.deepEqual(pick(records, ['prefix', 'protocol', 'source', 'destination', 'port', 'uid', 'verdict']), [
    { prefix: 'AUDIT_PAL_OUTPUT', protocol: 'icmpv6', source: 'fe80::40dc:7ff:fec4:6075', destination: 'ff02::16', port: null, uid: null, verdict: 'audit' },
    { prefix: 'AUDIT_PAL_INPUT', protocol: 'tcp', source: '10.77.0.1', destination: '10.77.0.2', port: 9999, uid: null, verdict: 'audit' },
    { prefix: 'AUDIT_PAL_INPUT', protocol: 'udp', source: '10.77.0.1', destination: '10.77.0.2', port: 5353, uid: null, verdict: 'audit' },
    { prefix: 'AUDIT_PAL_OUTPUT', protocol: 'icmpv6', source: 'fe80::40dc:7ff:fec4:6075', destination: 'ff02::16', port: null, uid: null, verdict: 'audit' },
  ]);
  assert.match(records[1]?.time ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

test('ulogd2 JSON: NFLOG carries the uid of an outbound socket (user chain of app, uid 4200)', () => {
  const out = fixture('ulogd-client.json').split('\n').flatMap((l) => parseUlogdLine(l) ?? []).filter((r) => r.prefix === 'AUDIT_PAL_OUT_app');
  assert.deepEqual(pick(out, ['protocol', 'destination', 'port', 'uid']), [{ protocol: 'udp', destination: '10.77.0.2', port: 5353, uid: 4200 }]);
});

test('ulogd2 JSON: lines that are not palisade records are ignored', () => {
  assert.equal(parseUlogdLine('{"oob.prefix": "OTHER", "ip.protocol": 6, "src_ip": "1.2.3.4", "dest_ip": "5.6.7.8"}'), null);
  assert.equal(parseUlogdLine('{not json'), null);
  assert.equal(parseUlogdLine(''), null);
});

test('kernel log (dmesg -r): direction, addresses, ports, protocol, uid of outbound', () => {
  const records = fixture('kmsg.txt').split('\n').flatMap((l) => parseKernelLogLine(l) ?? []);
  assert.deepEqual(pick(records, ['prefix', 'protocol', 'source', 'destination', 'port', 'uid']), [
    { prefix: 'AUDIT_PAL_OUT_app', protocol: 'udp', source: '10.77.0.1', destination: '10.77.0.2', port: 5353, uid: 4200 },
    { prefix: 'AUDIT_PAL_INPUT', protocol: 'udp', source: '10.77.0.1', destination: '10.77.0.2', port: 5353, uid: null },
    { prefix: 'AUDIT_PAL_OUTPUT', protocol: 'tcp', source: '10.77.0.1', destination: '10.77.0.2', port: 9998, uid: 0 },
    { prefix: 'AUDIT_PAL_INPUT', protocol: 'tcp', source: '10.77.0.1', destination: '10.77.0.2', port: 9998, uid: null },
  ]);
  assert.equal(records[0]?.time, null, 'dmesg -r has no wall clock');
});

test('kernel log: /dev/kmsg and journalctl -k short-iso forms, enforced drops', () => {
  const line = 'DROP_PAL_INPUT IN=eth0 OUT= SRC=10.0.0.5 DST=10.0.0.6 LEN=60 PROTO=TCP SPT=40000 DPT=5432 SYN';
  const kmsg = parseKernelLogLine(`4,1203,949018629,-;${line}`);
  assert.equal(kmsg?.verdict, 'drop');
  assert.equal(kmsg?.port, 5432);
  const journal = parseKernelLogLine(`2026-11-25T12:44:38+0000 web-1 kernel: ${line}`);
  assert.equal(journal?.time, '2026-11-25T12:44:38.000Z');
  assert.equal(parseKernelLogLine('2026-11-25T12:44:38+0000 web-1 kernel: eth0: link up'), null);
  assert.equal(parseKernelLogLine('DROP_PAL_INPUT IN=eth0 SRC=10.0.0.5 DST=10.0.0.6 PROTO=ICMP TYPE=8')?.protocol, 'icmp');
});

test('collect: one text may mix ulogd JSON and kernel lines', () => {
  const records = parseLogText(`${fixture('ulogd-client.json')}${fixture('kmsg.txt')}`);
  assert.equal(records.length, 3 + 4);
});

test('conntrack -o extended: the original direction of each tracked connection', () => {
  assert.deepEqual(parseConntrack(fixture('conntrack-extended.txt')), [
    { source: '10.77.0.1', destination: '10.77.0.2', protocol: 'udp', sourcePort: 54264, port: 5353, state: null },
    { source: '10.77.0.1', destination: '10.77.0.2', protocol: 'tcp', sourcePort: 34630, port: 9999, state: 'ESTABLISHED' },
  ]);
});

test('ss -tunapeH: listening and connected sockets with their owner', () => {
  const client = parseSs(fixture('ss-tunapeH-client.txt'));
  assert.deepEqual(client, [
    { protocol: 'tcp', state: 'ESTAB', localAddress: '10.77.0.1', localPort: 34630, peerAddress: '10.77.0.2', peerPort: 9999, uid: 4200, process: 'python3' },
  ]);
  const server = parseSs(fixture('ss-tunapeH.txt'));
  assert.deepEqual(server.map((s) => [s.state, s.localAddress, s.localPort, isListening(s)]), [
    ['LISTEN', '*', 9999, true],
    ['ESTAB', '10.77.0.2', 9999, false],
  ]);
  assert.deepEqual(parseSs(fixture('ss-tulpneH.txt')).map((s) => [s.protocol, s.localPort]), [['tcp', 9999]]);
  assert.deepEqual(splitEndpoint('[2001:db8::1]:443'), { address: '2001:db8::1', port: 443 });
  assert.deepEqual(splitEndpoint('10.0.0.1%eth0:53'), { address: '10.0.0.1', port: 53 });
  assert.deepEqual(splitEndpoint('[::ffff:10.0.0.7]:80'), { address: '10.0.0.7', port: 80 });
  assert.deepEqual(splitEndpoint('*:*'), { address: null, port: null });
});

test('nft monitor trace: the rule (or policy) of palisade that decided each traced packet', () => {
  const events = parseTrace(fixture('nft-monitor-trace.txt'));
  assert.ok(events.some((e) => e.table === 'palisade_trace'));
  assert.deepEqual(
    decisions(events, 'palisade').map((d) => [d.chain, d.verdict, d.rule]),
    [
      ['input', 'drop', 'drop'],
      ['input', 'accept', 'tcp dport 22 accept comment "failsafe in 1"'],
      ['input', 'drop', 'drop'],
    ],
  );
});
