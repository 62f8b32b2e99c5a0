/** AFW parity: every rule example of AFW's README, as a Chef role JSON, imports as it is and loads. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { execIn, namespaceName, run, skipUnlessRoot } from '../helpers/netns.ts';

const ROLE = 'test/policy/fixtures/afw-readme-role.json';
const HOSTS = 'test/policy/fixtures/afw-readme-inventory.yaml';
const flags = ['--policy', ROLE, '--inventory', HOSTS, '--no-resolve'];

describe("AFW's README examples", () => {
  it('import with check exit 0 for the iptables backend, the source-less disable_syntax_check rule with a warning', async () => {
    const r = await runCli(['check', '--backend', 'iptables', ...flags]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ok: 4 rules and 4 raw rules in 1 file\(s\)/m);
    assert.match(r.stderr, /rule "API calls from servers": no "source" \(disable_syntax_check\): the rule matches nothing until one is filled in/);
  });

  it('for nft, the two predefined rules iptables-translate cannot translate (physdev, string) are errors naming them', async () => {
    const r = await runCli(['check', ...flags]);
    assert.equal(r.code, 1);
    const errors = r.stderr.split('\n').filter((line) => / error: /.test(line));
    assert.equal(errors.length, 2, r.stderr);
    assert.match(errors[0] ?? '', /afw-readme-role\.json:45:9: error: rule "Accept all packets router through the bridge": no nft form, and iptables-translate cannot translate/);
    assert.match(errors[1] ?? '', /afw-readme-role\.json:49:9: error: rule "Drop connection to the admin panel on the eth0 interface": no nft form/);
  });

  it('interface: default has no interface match; the role\'s afw.* switches are the settings; -I goes to the top', async () => {
    const json = JSON.parse((await runCli(['compile', '--host', 'mongo-1', '--format', 'json', ...flags])).stdout);
    const input = json.chains.find((c: { name: string }) => c.name === 'input');
    const mongo = input.rules.filter((r: { origin: { rule?: string } }) => r.origin.rule === 'MongoDB App Entry Point');
    assert.equal(mongo.length, 2);
    for (const rule of mongo) assert.ok(!rule.matches.some((m: { kind: string }) => m.kind === 'iif'));
    assert.deepEqual(input.rules.at(-1).verdict, { kind: 'drop' });
    const output = json.chains.find((c: { name: string }) => c.name === 'output');
    assert.deepEqual(output.rules.at(-1).verdict, { kind: 'drop' }, 'enable_output_drop: true');
    const ipt = (await runCli(['compile', '--host', 'mongo-1', '--format', 'iptables', ...flags])).stdout;
    assert.match(ipt, /:PALISADE-FORWARD - \[0:0\]\n(?:.*\n)*?-A PALISADE-FORWARD -o br0 -m physdev --physdev-is-bridged -j ACCEPT\n/);
  });

  it('a role setting what Palisade has no meaning for is refused, not ignored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pal-afw-'));
    try {
      const role = join(dir, 'role.json');
      writeFileSync(role, JSON.stringify({ name: 'r', default_attributes: { afw: { enable: false, missing_user: true, rules: {} } } }, null, 2));
      const r = await runCli(['check', '--policy', role, '--inventory', HOSTS, '--no-resolve']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /role\.json:5:7: error: "afw\.enable" has no Palisade equivalent/);
      assert.match(r.stderr, /role\.json:6:7: error: "afw\.missing_user" has no Palisade equivalent/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without the two untranslatable rules, the nat and raw rules are translated and the nft script loads into a namespace', { skip: skipUnlessRoot }, async () => {
    const ns = namespaceName('pal-afw');
    const dir = mkdtempSync(join(tmpdir(), 'pal-afw-'));
    try {
      const role = JSON.parse(readFileSync(ROLE, 'utf8'));
      delete role.default_attributes.afw.rules['Accept all packets router through the bridge'];
      delete role.default_attributes.afw.rules['Drop connection to the admin panel on the eth0 interface'];
      writeFileSync(join(dir, 'role.json'), JSON.stringify(role, null, 2));
      const compiled = await runCli(['compile', '--host', 'mongo-1', '--policy', join(dir, 'role.json'), '--inventory', HOSTS, '--no-resolve']);
      assert.equal(compiled.code, 0, compiled.stderr);
      const script = compiled.stdout;
      assert.match(script, /chain nat_prerouting \{\n\t\ttype nat hook prerouting priority -100; policy accept;\n\t\tmeta nfproto ipv4 iifname "eth3" ip saddr 201\.23\.72\.3 tcp dport 8008 counter dnat to 127\.0\.0\.1:1234\n/);
      assert.match(script, /chain raw_output \{\n\t\ttype filter hook output priority -300; policy accept;\n\t\tmeta nfproto ipv4 oifname "eth0" ip protocol udp skuid 105 counter notrack\n/);
      run('ip', ['netns', 'add', ns]);
      writeFileSync(join(dir, 'mongo-1.nft'), script);
      execIn(ns)('nft', ['-f', join(dir, 'mongo-1.nft')]);
      const listed = execIn(ns)('nft', ['list', 'table', 'inet', 'palisade']);
      assert.match(listed, /comment "MongoDB App Entry Point \(user mongodb\)"/);
      assert.match(listed, /dnat ip to 127\.0\.0\.1:1234/);
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
