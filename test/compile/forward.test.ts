/** settings.containers and `from:` rules: the forward chain, its published and containers parts, and their abuse. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IrChain, Ruleset } from '../../src/compile/ir.ts';
import { InputError, formatDiagnostic } from '../../src/diagnostics.ts';
import { evaluateChain, type Packet } from '../../src/explain/evaluate.ts';
import { parsePolicyFiles } from '../../src/policy/load.ts';
import { renderIptables } from '../../src/render/iptables.ts';
import { renderNft } from '../../src/render/nft.ts';
import { compilerFor, SMALL_INVENTORY } from '../helpers/compiler.ts';

const POLICY = `
rules:
  Postgres from the web:
    on: roles:mongodb
    direction: in
    protocol: tcp
    source: roles:web
    dport: 5432
  App containers to monitoring:
    on: roles:mongodb
    direction: out
    from: containers
    protocol: tcp
    destination: roles:monitoring
    dport: 9090
  Bridge net to web:
    on: roles:mongodb
    direction: out
    from: 172.18.0.0/16
    protocol: tcp
    destination: roles:web
    dport: 443
`;

const chain = (rs: Ruleset, name: string): IrChain => {
  const found = rs.chains.find((c) => c.name === name);
  assert.ok(found, `no chain ${name}`);
  return found;
};

function packet(p: Partial<Packet>): Packet {
  return { family: 4, saddr: '10.0.1.11', daddr: '10.0.2.21', protocol: 'tcp', dport: 5432, sport: 40000, iif: 'eth0', oif: 'docker0', uid: null, ...p };
}

test('published ports: the inbound rules on the original port, the default at the end; replies and containers first', () => {
  const rs = compilerFor(POLICY, SMALL_INVENTORY).compile('db-1');
  const forward = chain(rs, 'forward');
  assert.equal(forward.hook, 'forward');
  assert.deepEqual(forward.rules[0]?.matches, [{ kind: 'ct-established' }]);
  const dnat = forward.rules.filter((r) => r.matches.some((m) => m.kind === 'ct-dnat'));
  assert.deepEqual(
    dnat.map((r) => r.matches[0]),
    [
      { kind: 'ct-dnat', family: 4, addresses: ['10.0.2.21', '10.99.0.21'] },
      { kind: 'ct-dnat', family: 6, addresses: ['2001:db8::21'] },
    ],
  );
  assert.ok(dnat.every((r) => r.verdict.kind === 'goto' && r.verdict.chain === 'published'));
  const published = chain(rs, 'published');
  const pg = published.rules.filter((r) => r.origin.kind === 'rule');
  assert.ok(pg.length === 2 && pg.every((r) => r.matches.some((m) => m.kind === 'orig-dport') && !r.matches.some((m) => m.kind === 'dport')));
  assert.deepEqual(published.rules.at(-1)?.verdict, { kind: 'drop' });
  assert.ok(published.rules.some((r) => r.verdict.kind === 'log' && r.verdict.prefix === 'DROP_PAL_PUBLISHED'));
  assert.ok(!published.rules.some((r) => r.origin.kind === 'base'), 'loopback and link-local ICMPv6 are the host\'s own');

  const nft = renderNft(rs);
  assert.match(nft, /ct status dnat ct original ip daddr \{ 10\.0\.2\.21, 10\.99\.0\.21 \} counter goto published/);
  assert.match(nft, /ip saddr @pal4_\w+ meta l4proto tcp ct original proto-dst 5432 counter accept comment "Postgres from the web"/);
  const v4 = renderIptables(rs).toText().v4;
  assert.match(v4, /-A PALISADE-FORWARD -m conntrack --ctstate DNAT --ctorigdst 10\.0\.2\.21 .*-g PALISADE-PUBLISHED/);
  assert.match(v4, /-A PALISADE-PUBLISHED -m set --match-set pal4_\w+ src -p tcp -m conntrack --ctorigdstport 5432 .*-j RETURN/);
  assert.doesNotMatch(v4, /PALISADE-(FORWARD|PUBLISHED|CONTAINERS) .*-j ACCEPT/, 'an accept in a forward chain only returns: Docker\'s and kube-proxy\'s rules still decide');
  assert.match(v4, /-I FORWARD 1 -j PALISADE-FORWARD/);
});

test('explain: a published port is decided by the inbound rule on its original port, whatever the container port', () => {
  const rs = compilerFor(POLICY, SMALL_INVENTORY).compile('db-1');
  const dnat = { daddr: '172.17.0.2', dport: 15432 };
  const allowed = evaluateChain(rs, 'forward', packet({ dnat }));
  assert.equal(allowed.decision, 'accept');
  assert.equal(allowed.rule?.origin.kind === 'rule' && allowed.rule.origin.rule, 'Postgres from the web');
  const denied = evaluateChain(rs, 'forward', packet({ saddr: '10.0.9.1', dnat }));
  assert.equal(denied.decision, 'drop');
  assert.equal(denied.chain, 'published');
  assert.deepEqual(denied.logged, ['DROP_PAL_PUBLISHED']);
  assert.equal(evaluateChain(rs, 'forward', packet({ dport: 15432, dnat })).decision, 'drop', 'the container port is not the published port');
  assert.equal(evaluateChain(rs, 'forward', packet({ saddr: '10.0.9.1' })).decision, 'accept', 'no DNAT: routed traffic is not palisade\'s');
});

test('container egress: from: rules in the containers chain, between containers untouched, egress_drop ends it', () => {
  const policy = `settings:\n  containers: { egress_drop: true }\n${POLICY}`;
  const rs = compilerFor(policy, SMALL_INVENTORY).compile('db-1');
  const containers = chain(rs, 'containers');
  assert.deepEqual(
    containers.rules.filter((r) => r.origin.kind === 'rule').map((r) => (r.origin.kind === 'rule' ? r.origin.rule : '')),
    ['App containers to monitoring', 'App containers to monitoring', 'Bridge net to web'],
  );
  assert.deepEqual(containers.rules.at(-1)?.verdict, { kind: 'drop' });
  const forward = chain(rs, 'forward');
  assert.ok(forward.rules.some((r) => r.matches.some((m) => m.kind === 'saddr-net' && m.cidrs.includes('172.18.0.0/16'))));
  const out = (p: Partial<Packet>) => evaluateChain(rs, 'forward', packet({ iif: 'docker0', oif: 'eth0', saddr: '172.17.0.2', ...p }));
  assert.equal(out({ daddr: '10.0.9.1', dport: 9090 }).decision, 'accept');
  assert.equal(out({ daddr: '10.0.9.1', dport: 22 }).decision, 'drop');
  assert.equal(out({ daddr: '172.17.0.3', oif: 'docker0', dport: 22 }).decision, 'accept', 'container to container on the host');
  assert.equal(out({ iif: 'br-0a1b2c3d4e5f', saddr: '172.18.0.5', daddr: '10.0.1.11', dport: 443 }).decision, 'accept');
  assert.equal(out({ iif: 'br-0a1b2c3d4e5f', saddr: '172.19.0.5', daddr: '10.0.1.11', dport: 443 }).decision, 'drop');
  const between = compilerFor(`settings:\n  containers: { egress_drop: true, between: rules }\n${POLICY}`, SMALL_INVENTORY).compile('db-1');
  assert.equal(evaluateChain(between, 'forward', packet({ iif: 'docker0', oif: 'docker0', saddr: '172.17.0.2', daddr: '172.17.0.3', dport: 22 })).decision, 'drop');
  assert.match(renderIptables(rs).toText().v4, /-A PALISADE-FORWARD -i br-\+ .*-g PALISADE-CONTAINERS/);
  assert.match(renderNft(rs), /iifname "br-\*" counter goto containers/);
});

test('containers: off leaves no forward chain; without from: rules or egress_drop containers are not filtered', () => {
  const off = compilerFor(`settings:\n  containers: off\n${POLICY}`, SMALL_INVENTORY).compile('db-1');
  assert.equal(off.chains.some((c) => c.hook === 'forward' || c.name === 'published'), false);
  assert.doesNotMatch(renderNft(off), /forward|published|containers/);
  const plain = compilerFor('rules: {}\n', SMALL_INVENTORY).compile('db-1');
  assert.ok(chain(plain, 'containers').rules.every((r) => r.origin.kind === 'base' && r.verdict.kind === 'accept'));
});

test('abuse: hostile bridge names, every interface, a /0 or too wide container network, from on inbound or with a user', () => {
  const errors = (yaml: string): string[] => {
    try {
      parsePolicyFiles([{ path: 'p.yaml', text: yaml }]);
      return [];
    } catch (cause) {
      assert.ok(cause instanceof InputError, String(cause));
      return cause.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
    }
  };
  const rule = (extra: string): string => `rules:\n  R:\n    direction: out\n    protocol: tcp\n    destination: 10.0.0.1\n    dport: 80\n${extra}`;
  for (const bad of ['"docker0\\"; flush ruleset"', '"*"', '"br-*-x"', '"-j ACCEPT"', '"a very long bridge name"', '"eth0 counter accept"', '"br\\n0"']) {
    assert.equal(errors(`settings:\n  containers: { bridges: [${bad}] }\nrules: {}\n`).length, 1, `bridges: [${bad}] must be refused`);
    assert.equal(errors(rule(`    from: ${bad}\n`)).length, 1, `from: ${bad} must be refused`);
  }
  assert.match(errors(rule('    from: 0.0.0.0/0\n'))[0] ?? '', /wider than a container network/);
  assert.match(errors(rule('    from: "::/0"\n'))[0] ?? '', /wider than a container network/);
  assert.match(errors(rule('    from: 10.0.0.0/7\n'))[0] ?? '', /at most \/8/);
  assert.match(errors(rule('    from: 172.17.0.1/16\n'))[0] ?? '', /host bits/);
  assert.deepEqual(errors(rule('    from: 10.0.0.0/8\n')), []);
  assert.match(errors(rule('    from: containers\n    user: root\n'))[0] ?? '', /no local user/);
  assert.match(errors('rules:\n  R:\n    direction: in\n    protocol: tcp\n    source: 10.0.0.1\n    dport: 80\n    from: containers\n')[0] ?? '', /for outbound rules of containers/);
  assert.match(errors('settings:\n  containers: maybe\nrules: {}\n')[0] ?? '', /must be one of enforce, off/);
  assert.match(errors('settings:\n  containers: { mode: enforce, egres_drop: true }\nrules: {}\n')[0] ?? '', /unknown key in containers "egres_drop".*egress_drop/);
  assert.match(errors(`settings:\n  containers: { bridges: [${Array.from({ length: 65 }, (_, i) => `b${i}`).join(', ')}] }\nrules: {}\n`)[0] ?? '', /at most 64/);
});

test('audit mode: what the published chain would drop is logged to NFLOG and accepted', () => {
  const rs = compilerFor(`settings:\n  mode: audit\n${POLICY}`, SMALL_INVENTORY).compile('db-1');
  const end = chain(rs, 'published').rules.slice(-2);
  assert.deepEqual(end.map((r) => r.verdict), [{ kind: 'log', prefix: 'AUDIT_PAL_PUBLISHED', group: 7 }, { kind: 'accept' }]);
});

test('explain --dnat: "published port, DNAT to ..., decided by rule X", and what containers: off means', async () => {
  const { explainFlow, formatExplanation } = await import('../../src/explain/flow.ts');
  const { parseInventoryDocument } = await import('../../src/inventory/document.ts');
  const hosts = parseInventoryDocument(SMALL_INVENTORY, 'inventory.yaml').hosts;
  const query = { source: 'web-1', destination: 'db-1', protocol: 'tcp' as const, port: 5432, sourcePort: null, user: null, family: 4 as const, dnat: { address: '172.17.0.2', port: 5432 } };
  const text = formatExplanation(explainFlow(compilerFor(POLICY, SMALL_INVENTORY), hosts, query));
  assert.match(text, /in on db-1: published port, DNAT to 172\.17\.0\.2:5432, accepted by rule "Postgres from the web" \(chain published\)/);
  const denied = formatExplanation(explainFlow(compilerFor(POLICY, SMALL_INVENTORY), hosts, { ...query, source: 'mon-1' }));
  assert.match(denied, /published port, DNAT to 172\.17\.0\.2:5432, dropped by the default policy \(input_drop: true\) \(chain published\), logged as DROP_PAL_PUBLISHED/);
  const off = formatExplanation(explainFlow(compilerFor(`settings:\n  containers: off\n${POLICY}`, SMALL_INVENTORY), hosts, { ...query, source: 'mon-1' }));
  assert.match(off, /accepted by nothing in palisade: settings\.containers is off, published ports bypass the inbound rules/);
});

test('explain --dnat: anything but ADDRESS:PORT is a usage error, never an evaluation', async () => {
  const { runCli } = await import('../helpers/cli.ts');
  for (const bad of ['172.17.0.2', '172.17.0.2:0', '172.17.0.2:65536', 'db:5432', '172.17.0.2:5432;id', 'fd00::2:5432', '[172.17.0.2]:5432', `${'9'.repeat(5000)}:1`]) {
    const r = await runCli(['explain', 'web-shop-1', 'api-1', '8080', '--dnat', bad]);
    assert.equal(r.code, 2, `--dnat ${bad}: ${r.stderr}`);
    assert.match(r.stderr, /--dnat .*expected the container's ADDRESS:PORT/);
  }
  const ok = await runCli(['explain', 'web-shop-1', 'api-1', '8080', '--dnat', '172.17.0.2:80']);
  assert.match(ok.stdout, /in on api-1: published port, DNAT to 172\.17\.0\.2:80, accepted by rule "API from web" \(chain published\)/);
});
