/**
 * Audit mode: `settings.mode` / `settings.audit` validated with file:line:col; audited hosts log to NFLOG
 * with AUDIT_PAL_* prefixes and accept what they would drop; enforced hosts are unchanged; the kernel
 * accepts the audit rendering of every example host (nft -c and iptables-restore --test in a netns).
 */
import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError, formatDiagnostic } from '../../src/diagnostics.ts';
import { parsePolicyFiles } from '../../src/policy/load.ts';
import { parseInventoryDocument } from '../../src/inventory/document.ts';
import { renderIptables } from '../../src/render/iptables.ts';
import { renderNft } from '../../src/render/nft.ts';
import { evaluateChain } from '../../src/explain/evaluate.ts';
import { explainFlow, formatExplanation } from '../../src/explain/flow.ts';
import { FleetCompiler } from '../../src/compile/compile.ts';
import { loadWorkspace } from '../../src/app/workspace.ts';
import { compilerFor, SMALL_INVENTORY } from '../helpers/compiler.ts';
import { inNamespace, skipUnlessRoot as skip } from '../helpers/netns.ts';

function errors(text: string): string[] {
  try {
    parsePolicyFiles([{ path: 'policy.yaml', text }]);
  } catch (cause) {
    if (!(cause instanceof InputError)) throw cause;
    return cause.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
  }
  return [];
}

const RULES = `rules:
  Web:
    on: roles:web
    direction: in
    protocol: tcp
    source: roles:monitoring
    dport: 80
  Scrape:
    on: roles:monitoring
    direction: out
    protocol: tcp
    user: prometheus
    destination: roles:web
    dport: 9100
`;

test('settings: mode and audit are validated at their position', () => {
  assert.deepEqual(errors('settings:\n  mode: audti\n'), ['policy.yaml:2:9: error: "mode" must be one of enforce, audit, not "audti" (did you mean "audit"?)']);
  assert.deepEqual(errors('settings:\n  audit:\n    hosts: "roles:web AND"\n'), ['policy.yaml:3:23: error: invalid query "roles:web AND": dangling AND: expected a query after it']);
  assert.deepEqual(errors('settings:\n  audit:\n    hosts: roles:web AND SAMETAG\n'), ['policy.yaml:3:26: error: "audit.hosts" cannot use SAMETAG: it has no compiled host to share tags with']);
  assert.deepEqual(errors('settings:\n  audit:\n    environments: [prod uction]\n'), [`policy.yaml:3:20: error: "audit.environments": "prod uction" is not an environment name: use 1 to 255 letters, digits, '_', '.' and '-'`]);
  assert.deepEqual(errors('settings:\n  mode: audit\n  audit: { environments: [staging] }\n'), [
    'policy.yaml:3:12: error: "audit.environments" selects hosts to audit under mode: enforce; mode: audit already audits every host',
  ]);
  assert.deepEqual(errors('settings:\n  audit: { log_group: 70000 }\n'), ['policy.yaml:2:23: error: "log_group" must be an NFLOG group number, 0 to 65535']);
  assert.deepEqual(errors('settings:\n  audit: { hots: roles:web }\n'), ['policy.yaml:2:12: error: unknown key in audit "hots" (did you mean "hosts"?)']);
});

test('settings: an audit section that selects no host is a warning', () => {
  const { diagnostics } = parsePolicyFiles([{ path: 'p.yaml', text: 'settings:\n  audit: { log_group: 3 }\n' }]);
  assert.deepEqual(diagnostics.map(formatDiagnostic), ['p.yaml:2:3: warning: "audit" selects no host: give environments or hosts, or set mode: audit']);
});

test('settings: no audit settings when every host enforces (the policy model is unchanged)', () => {
  assert.equal('audit' in parsePolicyFiles([{ path: 'p.yaml', text: 'settings:\n  mode: enforce\n' }]).policy.settings, false);
  const { policy } = parsePolicyFiles([{ path: 'p.yaml', text: 'settings:\n  audit: { environments: [staging], hosts: "name:mon-*", log_group: 3 }\n' }]);
  assert.deepEqual({ ...policy.settings.audit, hosts: policy.settings.audit?.hosts?.text }, { all: false, environments: ['staging'], hosts: 'name:mon-*', logGroup: 3 });
});

test('audit hosts: by environment and by query; the others are enforced and rendered as before', () => {
  const enforced = compilerFor(`settings: { output_drop: true }\n${RULES}`, SMALL_INVENTORY);
  const audited = compilerFor(`settings:\n  output_drop: true\n  audit: { environments: [staging], hosts: roles:monitoring }\n${RULES}`, SMALL_INVENTORY);
  for (const host of ['web-1', 'db-1']) assert.equal(renderNft(audited.compile(host)), renderNft(enforced.compile(host)), host);
  for (const host of ['web-s', 'mon-1']) {
    const nft = renderNft(audited.compile(host));
    assert.doesNotMatch(nft, /DROP_PAL|\bdrop\b/, host);
    assert.match(
      nft,
      /meta nfproto ipv6 meta l4proto != \{ tcp, udp \} counter add @palm6_auditx \{ ip6 saddr \. ip6 daddr \. meta l4proto limit rate 10\/second burst 20 packets \} log prefix "AUDIT_PAL_INPUT" group 7\n\t\tcounter accept\n/,
    );
    assert.match(nft, /meta nfproto ipv4 meta l4proto \{ tcp, udp \} counter add @palm4_audit \{ ip saddr \. ip daddr \. meta l4proto \. th dport limit rate 10\/second burst 20 packets \} log prefix "AUDIT_PAL_INPUT" group 7\n/);
    assert.match(nft, /set palm4_audit \{\n\t\ttype ipv4_addr \. ipv4_addr \. inet_proto \. inet_service\n\t\tsize 65535\n\t\tflags dynamic,timeout\n\t\ttimeout 60s\n/);
    assert.match(nft, /log prefix "AUDIT_PAL_OUTPUT" group 7\n\t\tcounter accept\n/);
  }
  assert.match(renderNft(audited.compile('mon-1')), /log prefix "AUDIT_PAL_OUT_prometheus" group 7/);
});

test('audit mode: iptables renders NFLOG with the prefix and group, rate limited per flow', () => {
  const compiler = compilerFor(`settings:\n  mode: audit\n  output_drop: true\n  audit: { log_group: 12 }\n${RULES}`, SMALL_INVENTORY);
  const files = renderIptables(compiler.compile('mon-1')).toText();
  const perFlow = (family: 4 | 6) =>
    `-m hashlimit --hashlimit-upto 10/second --hashlimit-burst 20 --hashlimit-mode srcip,dstip,dstport --hashlimit-name palm${family}_audit --hashlimit-htable-expire 60000`;
  assert.ok(files.v4.includes(`-A PALISADE-INPUT ${perFlow(4)} -j NFLOG --nflog-prefix "AUDIT_PAL_INPUT" --nflog-group 12\n-A PALISADE-INPUT -j ACCEPT\n`), files.v4);
  assert.ok(files.v6.includes(`-A PALISADE-U-prometheus ${perFlow(6)} -j NFLOG --nflog-prefix "AUDIT_PAL_OUT_prometheus" --nflog-group 12\n-A PALISADE-U-prometheus -j ACCEPT\n`), files.v6);
  assert.doesNotMatch(files.v4, /-j DROP|-j LOG/);
});

test('audit mode: a chain that drops nothing (output_drop: false) keeps its AFW log-only behaviour', () => {
  const nft = renderNft(compilerFor(`settings: { mode: audit }\n${RULES}`, SMALL_INVENTORY).compile('web-1'));
  assert.match(nft, /log prefix "DROP_PAL_OUTPUT "/);
  assert.match(nft, /log prefix "AUDIT_PAL_INPUT" group 7/);
});

test('explain on an audited host: accepted, logged with the audit prefix', () => {
  const rs = compilerFor(`settings: { mode: audit }\n${RULES}`, SMALL_INVENTORY).compile('web-1');
  const packet = { family: 4 as const, saddr: '10.0.2.21', daddr: '10.0.1.11', protocol: 'tcp' as const, dport: 5432, sport: null, iif: 'eth0', oif: null, uid: null };
  const verdict = evaluateChain(rs, 'input', packet);
  assert.equal(verdict.accepted, true);
  assert.deepEqual(verdict.logged, ['AUDIT_PAL_INPUT']);
  const compiler = compilerFor(`settings: { mode: audit }\n${RULES}`, SMALL_INVENTORY);
  const flow = explainFlow(compiler, parseInventoryDocument(SMALL_INVENTORY, 'inventory.yaml').hosts, {
    source: 'db-1',
    destination: 'web-1',
    protocol: 'tcp',
    port: 5432,
    sourcePort: null,
    user: null,
    family: 4,
  });
  assert.match(formatExplanation(flow), /audit mode: the default policy \(input_drop: true\) would drop it; accepted and logged/);
});

describe('the kernel accepts the audit rendering of every example host', { skip }, async () => {
  const ws = await loadWorkspace({ resolve: false });
  const audit = { all: true, environments: [], hosts: null, logGroup: 7 };
  const compiler = new FleetCompiler({ policy: { ...ws.policy, settings: { ...ws.policy.settings, audit } }, inventory: ws.inventory, names: new Map() });
  for (const rs of compiler.compileAll()) {
    it(`${rs.host}: nft -c; ipset, iptables-restore --test, ip6tables-restore --test`, () => {
      inNamespace('pal-aud', (exec) => {
        const script = renderNft(rs);
        assert.match(script, /AUDIT_PAL_INPUT/);
        exec('nft', ['-c', '-f', '-'], script);
        const files = renderIptables(rs).toText();
        exec('ipset', ['restore'], files.ipset);
        exec('iptables-restore', ['--test', '--noflush'], files.v4);
        exec('ip6tables-restore', ['--test', '--noflush'], files.v6);
      });
    });
  }
});
