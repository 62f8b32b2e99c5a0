/**
 * lintPolicy (what `check` adds to parsing) finds every warning compiling each host would give, grouped by
 * message with the hosts it concerns, without compiling any host (check at 100,000 hosts, issue 10).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FleetCompiler } from '../../src/compile/compile.ts';
import { lintPolicy } from '../../src/compile/lint.ts';
import { formatDiagnostic } from '../../src/diagnostics.ts';
import { compilerInputs } from '../helpers/compiler.ts';

const INVENTORY = `
hosts:
${Array.from({ length: 8 }, (_, i) => `  - name: web-${i}
    environment: production
    roles: [web]
    tags: [${i % 2 === 0 ? 'shop' : 'blog'}]
    interfaces: { eth0: [10.0.1.${i + 1}], ${i < 2 ? `eth1: [10.9.0.${i + 1}]` : ''}${i === 7 ? 'eth2: [10.9.1.1]' : ''} }
    ${i === 7 ? '' : 'lan: eth0'}
    users: { ${i < 3 ? 'app: 4100' : 'root: 0'} }`).join('\n')}
  - name: db-1
    environment: staging
    roles: [db]
    interfaces: { eth0: [10.0.2.1] }
    users: { app: 4100 }
`;

const POLICY = `
rules:
  Expired:
    on: roles:web
    direction: in
    protocol: tcp
    source: 10.0.0.0/8
    dport: 22
    expires: 2000-01-01T00:00:00Z
  App out:
    direction: out
    user: app
    protocol: tcp
    destination: roles:db
    dport: 5432
  Lan only:
    direction: in
    interface: lan
    protocol: tcp
    source: roles:web
    dport: 80
  Eth1:
    on: roles:web
    direction: in
    interface: eth1
    protocol: udp
    source: [backup.example.net, web-3]
    dport: 53
  Nginx:
    on: roles:web
    direction: out
    service: nginx.service
    protocol: tcp
    destination: [backup.example.net, 192.0.2.1]
    dport: 443
  Typo:
    on: roles:webs
    direction: in
    protocol: tcp
    source: roles:dbs OR rack:r1
    dport: 443
  Same tag:
    on: roles:db
    direction: in
    protocol: tcp
    source: roles:web AND SAMETAG
    dport: 8080
raw:
  Masquerade:
    on: roles:web
    iptables: { table: nat, rule: "-A POSTROUTING -o eth0 -j MASQUERADE" }
  Own form:
    on: roles:db
    nft: add rule inet palisade input ct state invalid drop
`;

test('check lists what compiling each host would warn about, with its hosts, without compiling them', () => {
  const inputs = compilerInputs(POLICY, INVENTORY);
  const compiler = new FleetCompiler({ ...inputs, now: Date.parse('2026-11-30T00:00:00Z'), serviceRunning: () => false, cgroupMount: '' });
  let compiled = 0;
  const counting = new Proxy(compiler, {
    get(target, key, receiver) {
      if (key === 'compile' || key === 'compileAll') compiled++;
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
  const findings = lintPolicy(inputs.policy, inputs.inventory, counting).map(formatDiagnostic);
  assert.equal(compiled, 0, 'no host compiled');
  assert.deepEqual(findings, [
    'policy.yaml:36:3: warning: rule "Typo": query field "rack" is neither a built-in field nor an attribute of any host: it matches nothing',
    'policy.yaml:36:3: warning: rule "Typo": on: "roles:webs" selects no host: the rule is installed nowhere',
    'policy.yaml:36:3: warning: rule "Typo": source "roles:dbs OR rack:r1" matches no host of the inventory: it adds no address to the rule',
    'policy.yaml:42:3: warning: rule "Same tag": source "roles:web AND SAMETAG" matches no host of the inventory: it adds no address to the rule',
    'warning: raw rule "Masquerade" has no nft form: the nft backend skips it (on web-0, web-1, web-2, web-3, web-4, and 3 more)',
    'warning: rule "Expired" expired at 2000-01-01T00:00:00Z: left out (on web-0, web-1, web-2, web-3, web-4, and 3 more)',
    'warning: "backup.example.net" did not resolve (not resolved): it matches nothing (on web-0, web-1, web-2, web-3, web-4, and 3 more)',
    'warning: rule "Nginx" inactive: unit nginx.service is not running (no cgroup system.slice/nginx.service) (on web-0, web-1, web-2, web-3, web-4, and 3 more)',
    'warning: rule "Eth1": interface "eth1" is not one of this host\'s interfaces (on web-2, web-3, web-4, web-5, web-6, and 1 more)',
    'warning: rule "App out" skipped: user "app" does not exist on this host (on web-3, web-4, web-5, web-6, web-7)',
    'warning: rule "Lan only": interface lan, but this host has no lan interface: it matches on every interface (on web-7, db-1)',
    'warning: raw rule "Own form" has no iptables form: the iptables backend skips it (on db-1)',
  ]);
  for (const host of inputs.inventory.hosts) assert.deepEqual(compiler.warningsOf(host), compiler.compile(host.name).warnings, `${host.name}: the warnings its ruleset carries`);
});
