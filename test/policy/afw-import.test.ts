import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InputError, formatDiagnostic } from '../../src/diagnostics.ts';
import { roleQueryText } from '../../src/policy/afw-import.ts';
import { parsePolicyFiles } from '../../src/policy/load.ts';

const ROLE = `{
  "name": "mongodb",
  "json_class": "Chef::Role",
  "default_attributes": {
    "afw": {
      "rules": {
        "MongoDB App Entry Point": {
          "protocol": "tcp",
          "direction": "in",
          "user": "mongodb",
          "source": "(roles:webserver OR roles:api) AND SAMETAG",
          "dport": "27017"
        },
        "Mongo replica": { "protocol": "tcp", "direction": "in", "source": ["10.0.0.0/8"], "dport": "27017" },
        "Accept bridged": { "table": "filter", "rule": "-A FORWARD -o br0 -j ACCEPT" }
      }
    }
  },
  "override_attributes": {
    "afw": { "rules": { "Mongo replica": { "protocol": "tcp", "direction": "in", "source": "10.1.0.0/16", "dport": 27018, "options": "disable_env_limit" } } }
  }
}
`;

function errorsOf(text: string, path = 'roles/mongodb.json'): string[] {
  try {
    parsePolicyFiles([{ path, text }]);
  } catch (cause) {
    if (!(cause instanceof InputError)) throw cause;
    return cause.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
  }
  return assert.fail('expected an InputError');
}

test('an AFW role imports its rules on roles:<role>, override winning, predefined rules as raw iptables', () => {
  const { policy, diagnostics } = parsePolicyFiles([{ path: 'roles/mongodb.json', text: ROLE }]);
  assert.deepEqual(diagnostics, []);
  const [entry, replica] = policy.rules;
  assert.equal(policy.rules.length, 2);
  assert.ok(entry && replica);
  assert.equal(entry.name, 'MongoDB App Entry Point');
  assert.equal(entry.onText, 'roles:mongodb');
  assert.deepEqual(entry.on, { kind: 'term', field: 'roles', value: 'mongodb', wildcard: false, col: 1 });
  assert.equal(entry.user, 'mongodb');
  assert.deepEqual(entry.peers.map((p) => p.kind), ['query']);
  assert.deepEqual(entry.dport, [{ from: 27017, to: 27017 }]);
  assert.deepEqual(entry.origin, { file: 'roles/mongodb.json', line: 7, col: 9 });

  assert.equal(replica.name, 'Mongo replica');
  assert.deepEqual(replica.peers, [{ kind: 'cidr', text: '10.1.0.0/16', family: 4, cidr: '10.1.0.0/16' }]);
  assert.deepEqual(replica.dport, [{ from: 27018, to: 27018 }]);
  assert.equal(replica.options.disableEnvLimit, true);
  assert.deepEqual(replica.origin, { file: 'roles/mongodb.json', line: 20, col: 25 });

  assert.equal(policy.raw.length, 1);
  const [bridged] = policy.raw;
  assert.equal(bridged?.name, 'Accept bridged');
  assert.equal(bridged?.onText, 'roles:mongodb');
  assert.equal(bridged?.nft, null);
  assert.deepEqual(bridged?.iptables, { table: 'filter', chain: 'FORWARD', rule: '-o br0 -j ACCEPT', insert: false });
  assert.deepEqual(bridged?.origin, { file: 'roles/mongodb.json', line: 15, col: 9 });
});

test('role names a bare query value cannot hold are quoted', () => {
  assert.equal(roleQueryText('web_server-2.x'), 'roles:web_server-2.x');
  assert.equal(roleQueryText('db servers'), 'roles:"db servers"');
  assert.equal(roleQueryText('a"b'), 'roles:"a\\"b"');
  const role = '{ "name": "db servers", "default_attributes": { "afw": { "rules": { "X": { "protocol": "icmp", "direction": "in", "source": "10.0.0.1" } } } } }';
  const { policy } = parsePolicyFiles([{ path: 'r.json', text: role }]);
  assert.equal(policy.rules[0]?.onText, 'roles:"db servers"');
  assert.deepEqual(policy.rules[0]?.on, { kind: 'term', field: 'roles', value: 'db servers', wildcard: false, col: 1 });
});

test('errors in a role point at line:col of the JSON file', () => {
  const text = `{
  "name": "web",
  "default_attributes": { "afw": { "rules": {
    "HTTP": { "protocol": "tcp", "direction": "in", "source": "10.0.0.256", "dprot": "80" },
    "Pre": { "table": "filter", "rule": "-A INPUT -j ACCEPT; flush ruleset" },
    "Carried": { "on": "roles:x", "protocol": "icmp", "direction": "in", "source": "roles:web AND (" }
  } } }
}`;
  const errors = errorsOf(text);
  assert.deepEqual(errors.slice(0, 4), [
    'roles/mongodb.json:4:5: error: rule "HTTP": missing "dport": a tcp rule needs a destination port',
    'roles/mongodb.json:4:63: error: rule "HTTP": "10.0.0.256" is not a valid IP address or network',
    'roles/mongodb.json:4:77: error: rule "HTTP": unknown field "dprot" (did you mean "dport"?)',
    'roles/mongodb.json:5:60: error: rule "Pre": "rule" contains ";": it would end this command and start another in the nft script',
  ]);
  assert.equal(errors[4], 'roles/mongodb.json:6:18: error: rule "Carried": "on" is not an AFW rule field: an imported rule is carried by its role\'s hosts (roles:web)');
  assert.match(errors[5] ?? '', /^roles\/mongodb\.json:6:99: error: rule "Carried": invalid query "roles:web AND \(": /);
  assert.equal(errors.length, 6);
});

test('a role without afw.rules is a warning; without a name, an error', () => {
  const { policy, diagnostics } = parsePolicyFiles([{ path: 'base.json', text: '{ "name": "base", "default_attributes": { "ntp": {} } }' }]);
  assert.deepEqual(policy.rules, []);
  assert.deepEqual(diagnostics.map(formatDiagnostic), ['base.json:1:1: warning: no afw.rules in this role']);
  assert.deepEqual(errorsOf('{ "default_attributes": { "afw": { "rules": {} } } }', 'r.json'), [
    'r.json:1:1: error: a Chef role needs "name": its rules go to the hosts with that role',
  ]);
  assert.deepEqual(errorsOf('{ "name": "x", "override_attributes": { "afw": { "rules": { "A": "tcp" } } } }', 'r.json'), [
    'r.json:1:66: error: rule "A": rule must be a mapping',
  ]);
  assert.match(errorsOf('{ "name": "x", ', 'r.json')[0] ?? '', /^r\.json:\d+:\d+: error: invalid syntax: /);
});

test('rule names are shared with policy documents: a duplicate is an error naming both places', () => {
  const doc = 'rules:\n  Mongo replica: { direction: in, protocol: icmp, source: 10.0.0.1 }\n';
  assert.throws(
    () => parsePolicyFiles([{ path: 'policy.yaml', text: doc }, { path: 'roles/mongodb.json', text: ROLE }]),
    (e: unknown) => e instanceof InputError && e.message === 'roles/mongodb.json:20:25: error: rule "Mongo replica": rule name used twice: also at policy.yaml:2:3',
  );
});
