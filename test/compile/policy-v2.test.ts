/** Policy language v2: action, order, default_action, limit, icmp_type, service, expires, interface lan/default/all. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IrRule, Ruleset } from '../../src/compile/ir.ts';
import { InputError, formatDiagnostic } from '../../src/diagnostics.ts';
import { evaluateChain } from '../../src/explain/evaluate.ts';
import { explainFlow, formatExplanation } from '../../src/explain/flow.ts';
import { parsePolicyFiles } from '../../src/policy/load.ts';
import { renderNft } from '../../src/render/nft.ts';
import { formatPlan, makePlan } from '../../src/plan/plan.ts';
import { compilerFor, SMALL_INVENTORY } from '../helpers/compiler.ts';
import { parseInventoryDocument } from '../../src/inventory/document.ts';

const HOSTS = parseInventoryDocument(SMALL_INVENTORY, 'inventory.yaml').hosts;
const names = (rs: Ruleset, chain: string): string[] =>
  (rs.chains.find((c) => c.name === chain)?.rules ?? []).flatMap((r: IrRule) => (r.origin.kind === 'rule' ? [`${r.origin.rule}:${r.verdict.kind}`] : []));

const POLICY = `
settings:
  default_action: reject
  output_drop: true
rules:
  Web from production:
    on: roles:web
    direction: in
    protocol: tcp
    source: "*:*"
    dport: 80
  Not from monitoring:
    on: roles:web
    order: 10
    action: drop
    direction: in
    protocol: all
    source: roles:monitoring
  Reject the staging web:
    on: roles:web
    order: 20
    action: reject
    direction: in
    protocol: tcp
    source: roles:web AND environment:staging
    options: [disable_env_limit]
  Log telnet:
    on: roles:web
    order: 5
    action: log
    direction: in
    protocol: tcp
    source: "*:*"
    dport: 23
  SSH limited:
    on: roles:web
    direction: in
    protocol: tcp
    source: "*:*"
    dport: 2022
    interface: lan
    limit: { rate: 3/minute, burst: 2, per: source }
  Ping only:
    on: roles:web
    direction: in
    protocol: icmp
    icmp_type: [echo-request]
    source: "*:*"
    interface: default
  Nginx to mongo:
    on: roles:web
    direction: out
    protocol: tcp
    service: nginx.service
    destination: roles:mongodb
    dport: 27017
  Contractor:
    on: roles:web
    direction: in
    protocol: tcp
    source: 192.0.2.7
    dport: 2222
    expires: 2026-06-01T00:00:00Z
`;

const BEFORE_EXPIRY = Date.parse('2026-05-31T23:59:59Z');
const AFTER_EXPIRY = Date.parse('2026-06-01T00:00:00Z');

test('rules are evaluated by order, ties in file order, and end with default_action', () => {
  const rs = compilerFor(POLICY, SMALL_INVENTORY, {}, { now: BEFORE_EXPIRY }).compile('web-1');
  assert.deepEqual(names(rs, 'input'), [
    'Log telnet:log', 'Log telnet:log',
    'Not from monitoring:drop', 'Not from monitoring:drop',
    'Reject the staging web:reject', 'Reject the staging web:reject',
    'Web from production:accept', 'Web from production:accept',
    'SSH limited:accept', 'SSH limited:accept',
    'Ping only:accept',
    'Contractor:accept',
  ]);
  const input = rs.chains.find((c) => c.name === 'input')?.rules ?? [];
  assert.deepEqual(input.at(-1)?.verdict, { kind: 'reject' });
  const service = rs.chains.find((c) => c.name === 'service_nginx.service');
  assert.ok(service !== undefined);
  assert.deepEqual(service.rules.at(-1)?.verdict, { kind: 'reject' });
});

test('interface: lan is the host\'s lan; default and all are every interface', () => {
  const rs = compilerFor(POLICY, SMALL_INVENTORY, {}, { now: BEFORE_EXPIRY }).compile('web-1');
  const script = renderNft(rs);
  assert.match(script, /iifname "eth0" ip saddr @\S+ tcp dport 2022 add @palm4_\w+ \{ ip saddr limit rate 3\/minute burst 2 packets \} counter accept comment "SSH limited"/);
  assert.match(script, /\t\tip saddr @\S+ meta l4proto icmp icmp type echo-request counter accept comment "Ping only"/);
  assert.match(script, /\t\tip saddr @\S+ tcp dport 80 counter accept comment "Web from production"/);
});

test('an expired rule is left out with a warning; before expiry it is there', () => {
  const before = compilerFor(POLICY, SMALL_INVENTORY, {}, { now: BEFORE_EXPIRY }).compile('web-1');
  const after = compilerFor(POLICY, SMALL_INVENTORY, {}, { now: AFTER_EXPIRY }).compile('web-1');
  assert.ok(names(before, 'input').includes('Contractor:accept'));
  assert.ok(!names(after, 'input').includes('Contractor:accept'));
  assert.ok(after.warnings.includes('rule "Contractor" expired at 2026-06-01T00:00:00Z: left out'));
});

test('a service rule gets its own chain, jumped to on the socket\'s cgroup; inactive when the unit is not running', () => {
  const running = compilerFor(POLICY, SMALL_INVENTORY, {}, { now: BEFORE_EXPIRY, serviceRunning: () => true, cgroupMount: 'unified' }).compile('web-1');
  assert.match(renderNft(running), /socket cgroupv2 level 2 "unified\/system.slice\/nginx.service" counter jump service_nginx.service/);
  const stopped = compilerFor(POLICY, SMALL_INVENTORY, {}, { now: BEFORE_EXPIRY, serviceRunning: () => false }).compile('web-1');
  assert.equal(stopped.chains.find((c) => c.name === 'service_nginx.service'), undefined);
  assert.ok(stopped.warnings.includes('rule "Nginx to mongo" inactive: unit nginx.service is not running (no cgroup system.slice/nginx.service)'));
});

test('explain says rejected, dropped, rate-limited, and answers by ICMP type and service', () => {
  const compiler = compilerFor(POLICY, SMALL_INVENTORY, {}, { now: BEFORE_EXPIRY });
  const flow = (source: string, protocol: 'tcp' | 'icmp', port: number | null) =>
    explainFlow(compiler, HOSTS, { source, destination: 'web-1', protocol, port, sourcePort: null, user: null, family: 4 });
  const monitoring = flow('mon-1', 'tcp', 80);
  assert.equal(monitoring.allowed, false);
  assert.match(formatExplanation(monitoring), /in on web-1: dropped by rule "Not from monitoring"/);
  const staging = flow('web-s', 'tcp', 80);
  assert.match(formatExplanation(staging), /in on web-1: rejected by rule "Reject the staging web"/);
  const other = flow('10.0.1.12', 'tcp', 8080);
  assert.match(formatExplanation(other), /rejected by the default policy \(input_drop: true, default_action: reject\)/);
  const ssh = formatExplanation(flow('web-2', 'tcp', 2022));
  assert.match(ssh, /accepted by rule "SSH limited"/);
  assert.match(ssh, /rate-limited to 3\/minute \(burst 2, per source\): beyond it the packet falls through and is rejected by the default policy/);
  assert.equal(flow('web-2', 'icmp', null).sides.find((s) => s.direction === 'in')?.accepted, true);
  const rs = compiler.compile('web-1');
  const packet = { family: 4 as const, saddr: '10.0.1.12', daddr: '10.0.1.11', protocol: 'icmp' as const, dport: null, sport: null, iif: 'eth0', oif: null, uid: null };
  assert.equal(evaluateChain(rs, 'input', { ...packet, icmpType: 'timestamp-request' }).decision, 'reject');
  assert.equal(evaluateChain(rs, 'output', { ...packet, saddr: '10.0.1.11', daddr: '10.0.2.21', protocol: 'tcp', dport: 27017, iif: null, cgroup: 'system.slice/nginx.service' }).decision, 'accept');
  assert.equal(evaluateChain(rs, 'output', { ...packet, saddr: '10.0.1.11', daddr: '10.0.2.21', protocol: 'tcp', dport: 27017, iif: null, cgroup: 'system.slice/other.service' }).decision, 'reject');
});

function errorsOf(text: string): string[] {
  try {
    parsePolicyFiles([{ path: 'policy.yaml', text }]);
  } catch (cause) {
    if (!(cause instanceof InputError)) throw cause;
    return cause.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
  }
  return assert.fail('expected an InputError');
}

const oneRule = (...fields: string[]): string => ['rules:', '  R:', ...fields.map((f) => `    ${f}`), ''].join('\n');
const IN_TCP = ['direction: in', 'protocol: tcp', 'source: 10.0.0.0/8', 'dport: 22'];

test('bad v2 fields are errors at their position, with what is expected', () => {
  assert.deepEqual(errorsOf(oneRule(...IN_TCP, 'action: deny', 'order: 1.5')), [
    'policy.yaml:7:13: error: rule "R": "action" must be one of accept, drop, reject, log, not "deny"',
    'policy.yaml:8:12: error: rule "R": "order" must be a whole number from -1000000000 to 1000000000',
  ]);
  assert.deepEqual(errorsOf(oneRule(...IN_TCP, 'limit: { rate: 10/minit, burst: 0, per: src }')), [
    'policy.yaml:7:20: error: rule "R": "rate" must be N/second, N/minute, N/hour or N/day with N from 1 to 1000000, as in "10/minute", not "10/minit" (did you mean "minute"?)',
    'policy.yaml:7:37: error: rule "R": "burst" must be a whole number from 1 to 1000000',
    'policy.yaml:7:45: error: rule "R": "per" must be one of source, destination, rule, not "src"',
  ]);
  assert.deepEqual(errorsOf(oneRule('direction: in', 'protocol: icmp', 'source: 10.0.0.0/8', 'icmp_type: [echo-request, echo-requst]')), [
    'policy.yaml:6:31: error: rule "R": "icmp_type": "echo-requst" is not an icmp type (echo-reply, destination-unreachable, source-quench, redirect, echo-request, router-advertisement, router-solicitation, time-exceeded, parameter-problem, timestamp-request, timestamp-reply, info-request, info-reply, address-mask-request, address-mask-reply) (did you mean "echo-request"?)',
  ]);
  assert.deepEqual(errorsOf(oneRule(...IN_TCP, 'icmp_type: echo-request', 'service: nginx.service')), [
    'policy.yaml:7:5: error: rule "R": "icmp_type" needs protocol icmp or icmpv6, not tcp',
    'policy.yaml:8:5: error: rule "R": "service" is for outbound rules: an inbound packet has no local socket yet',
  ]);
  assert.deepEqual(errorsOf(oneRule('direction: out', 'protocol: tcp', 'destination: 10.0.0.0/8', 'dport: 22', 'service: "../../etc.service"', 'expires: 2026-02-30T00:00:00Z')), [
    'policy.yaml:7:14: error: rule "R": "service": "../../etc.service" is not a systemd unit name (as in nginx.service or getty@tty1.service)',
    'policy.yaml:8:14: error: rule "R": "expires" must be an instant with its time zone, as in 2026-12-31T18:00:00Z, not "2026-02-30T00:00:00Z"',
  ]);
  assert.deepEqual(errorsOf(oneRule(...IN_TCP, 'expires: 2026-12-31T18:00:00')), [
    'policy.yaml:7:14: error: rule "R": "expires" must be an instant with its time zone, as in 2026-12-31T18:00:00Z, not "2026-12-31T18:00:00"',
  ]);
  assert.deepEqual(errorsOf('settings:\n  default_action: accept\n'), ['policy.yaml:2:19: error: "default_action" must be one of drop, reject, not "accept"']);
});

test('a drop or reject rule may take every port; an accept rule still names its port', () => {
  const { policy } = parsePolicyFiles([{ path: 'p.yaml', text: oneRule('direction: in', 'protocol: tcp', 'action: reject', 'source: 10.0.0.0/8') }]);
  assert.equal(policy.rules[0]?.dport, null);
  assert.deepEqual(errorsOf(oneRule('direction: in', 'protocol: tcp', 'source: 10.0.0.0/8')), ['policy.yaml:2:3: error: rule "R": missing "dport": a tcp rule needs a destination port']);
});

test('plan notes an expired rule on every host that carried it', () => {
  const rulesets = compilerFor(POLICY, SMALL_INVENTORY, {}, { now: AFTER_EXPIRY }).compileAll();
  const text = formatPlan(makePlan(rulesets, null), false);
  assert.match(text, /^web-1 .*\n {4}note: rule "Contractor" expired at 2026-06-01T00:00:00Z: left out$/m);
  assert.doesNotMatch(text, /note: rule "Nginx to mongo"/, 'other warnings only with --verbose');
});

test('explain --service: the unit\'s rules decide, and a rule of a unit that is not running is named inactive', () => {
  const stopped = compilerFor(POLICY, SMALL_INVENTORY, {}, { now: BEFORE_EXPIRY, serviceRunning: () => false });
  const running = compilerFor(POLICY, SMALL_INVENTORY, {}, { now: BEFORE_EXPIRY, serviceRunning: () => true });
  const query = { source: 'web-1', destination: 'db-1', protocol: 'tcp' as const, port: 27017, sourcePort: null, user: null, service: 'nginx.service', family: 4 as const };
  const out = (c: typeof running) => explainFlow(c, HOSTS, query).sides.find((s) => s.direction === 'out');
  assert.equal(out(running)?.decidedBy, 'rule "Nginx to mongo"');
  const text = formatExplanation(explainFlow(stopped, HOSTS, query));
  assert.match(text, /out on web-1: rejected by the default policy/);
  assert.match(text, /note: service rule "Nginx to mongo" inactive: unit nginx.service is not running/);
});
