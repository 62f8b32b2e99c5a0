/**
 * `import --verify` in the kernel, for each tool with a real fixture: the original loaded as the tool loads it
 * (iptables-restore; ufw's framework then its user rules files; firewalld's nftables layout of the zone) in
 * one namespace, the imported policy loaded by palisade in another, the same flows probed in both. The
 * differences are exactly the listed ones, each explained below, and no namespace of the run is left behind.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { importRules } from '../../src/app/import.ts';
import type { Probe, VerifyReport } from '../../src/import/verify.ts';
import { runCli } from '../helpers/cli.ts';
import { skipUnlessRoot } from '../helpers/netns.ts';

const skip = skipUnlessRoot;
const FIXTURES = join(import.meta.dirname, '../import/fixtures');
const fixture = (name: string): string => join(FIXTURES, name);

type Flow = Probe & { original: string; palisade: string };

const flows = (report: VerifyReport): Flow[] => report.differences.flatMap((d) => d.flows.map((f) => ({ ...f, original: d.original.decision, palisade: d.palisade.decision })));
const show = (f: Flow): string => `${f.original}->${f.palisade} ${f.direction} ${f.protocol}/${f.dport ?? f.icmpType} ${f.peer} ${f.iface}`;
const namespaces = (): string[] => spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.startsWith('pal-iv'));

/** Every differing flow has one of the explanations, and every explanation has a flow. */
function exactly(report: VerifyReport, explanations: Record<string, (f: Flow) => boolean>): void {
  const all = flows(report);
  const unexplained = all.filter((f) => !Object.values(explanations).some((explains) => explains(f)));
  assert.deepEqual(unexplained.map(show), [], 'differences nobody listed');
  for (const [why, explains] of Object.entries(explanations)) assert.ok(all.some(explains), `no flow shows "${why}":\n${all.map(show).join('\n')}`);
}

describe('import --verify probes the original and the imported policy in namespaces', { skip, concurrency: false }, () => {
  it('iptables-save: only the failsafe, the raw rule placed first, and the original refusing its replies to one address', async () => {
    const before = namespaces();
    const { report } = await importRules({ tool: 'iptables-save', files: [fixture('iptables-save.txt')], host: 'web-1', verify: true });
    assert.ok(report !== null && report.method === 'kernel');
    assert.ok(report.compared > 1000, String(report.compared));
    exactly(report, {
      /* Palisade's failsafe accepts SSH, which the original refuses or drops from everyone but the office. */
      'ssh failsafe': (f) => f.direction === 'in' && f.protocol === 'tcp' && f.dport === 22 && f.palisade === 'accept' && !f.peer.startsWith('203.0.113.'),
      /* ...and DNS out, which the original refuses to 192.0.2.66. */
      'dns failsafe': (f) => f.direction === 'out' && f.dport === 53 && f.peer === '192.0.2.66' && f.palisade === 'accept',
      /* The hashlimit rule cannot be said in palisade's language: kept raw, raw rules go first, before the drop of 198.51.100.7. */
      'raw rule first': (f) => f.direction === 'in' && f.protocol === 'udp' && f.dport === 514 && f.peer === '198.51.100.7' && f.original === 'drop' && f.palisade === 'accept',
      /* The original's OUTPUT refuses every packet to 192.0.2.66, its own answers included: nothing inbound from there gets through. */
      'answers refused': (f) => f.direction === 'in' && f.peer === '192.0.2.66' && f.original === 'drop',
    });
    const office = flows(report).filter((f) => f.peer.startsWith('203.0.113.') && f.dport !== 514);
    assert.deepEqual(office.map(show), [], 'the office is treated alike by both');
    assert.deepEqual(namespaces().filter((n) => !before.includes(n)), [], 'namespaces left behind');
  });

  it('ufw (user.rules and user6.rules on ufw\'s framework): only the DNS failsafe and a local address palisade does not match', async () => {
    const { report } = await importRules({ tool: 'ufw', files: [fixture('ufw-user.rules'), fixture('ufw-user6.rules')], host: 'ufw-1', verify: true });
    assert.ok(report !== null && report.method === 'kernel');
    exactly(report, {
      /* `allow to 10.0.0.5 port 8443`: palisade's inbound rules match every address of the host, so the imported rule opens 8443 on all. */
      'local address': (f) => f.direction === 'in' && f.dport === 8443 && f.original === 'drop' && f.palisade === 'accept',
      /* `deny out to 198.51.100.0/24` meets the DNS failsafe (udp/53 ufw allows first). */
      'dns failsafe': (f) => f.direction === 'out' && f.protocol === 'tcp' && f.dport === 53 && f.peer.startsWith('198.51.100.') && f.palisade === 'accept',
    });
    /* ufw's before.rules accept ping ahead of the user rules, and so does the import. */
    assert.ok(!flows(report).some((f) => f.protocol === 'icmp' || f.protocol === 'icmpv6'));
  });

  it('firewalld, through the command: one difference (SSH from the dropped address), exit 3; a clean iptables ruleset exits 0', async () => {
    const verified = await runCli(['import', 'firewalld', fixture('firewalld-public.xml'), '--verify', '--host', 'fw-1']);
    assert.equal(verified.code, 3, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /^\d+ flows probed in network namespaces on fw-1: 1 differ; \d+ not compared\n~ firewalld: drop by \S*firewalld-public.xml:23; palisade: accept by failsafe in #1 \(1 flow, ports 22\)\n {4}in tcp\/22 from 203\.0\.113\.5\n\? not compared: \d+ flows: ICMP type timestamp-request: the probe sends echo requests only\n$/);
    const clean = await runCli(['import', '--from', 'iptables-save', fixture('clean.iptables-save'), '--verify']);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /^\d+ flows probed in network namespaces on \S+: same verdict on every one\n$/);
    const status = await runCli(['import', 'ufw', fixture('ufw-status-verbose.txt'), '--verify', '--host', 'u']);
    assert.match(status.stderr, /note: --verify: \S+ufw-status-verbose.txt is ufw status output, .*; compared the rules as read instead/);
    assert.match(status.stdout, /flows compared \(as read, in process\) on u:/);
  });
});
