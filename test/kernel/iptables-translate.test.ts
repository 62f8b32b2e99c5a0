import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parseTranslation, translateRawRules } from '../../src/kernel/iptables-translate.ts';
import { parsePolicyFiles } from '../../src/policy/load.ts';

const HEADER = '# Translated by iptables-restore-translate v1.8.9 on Mon Nov 30 04:35:50 2026\nadd table ip nat\n';
const FOOTER = '# Completed on Mon Nov 30 04:35:50 2026\n';

describe('reading iptables-restore-translate', () => {
  it('keeps the rule bodies of the asked table and chain, as IPv4 rules', () => {
    assert.deepEqual(parseTranslation(`${HEADER}add rule ip nat PREROUTING tcp dport 80 counter redirect to :8080\n${FOOTER}`, 'nat', 'PREROUTING'), {
      nft: ['meta nfproto ipv4 tcp dport 80 counter redirect to :8080'],
    });
  });

  it('reads the rule printed back as a comment (exit 0) as untranslatable, never as an empty rule', () => {
    const out = '# Translated by x\nadd table ip filter\n# -t filter -A FORWARD -o br0 -m physdev --physdev-is-bridged -j ACCEPT \n# Completed on x\n';
    assert.deepEqual(parseTranslation(out, 'filter', 'FORWARD'), { error: 'no nft equivalent for one of its matches or its target' });
    assert.deepEqual(parseTranslation(`${HEADER}${FOOTER}`, 'nat', 'PREROUTING'), { error: 'the translation is empty' });
  });

  it('refuses anything else: another table or chain, another command, text that would break out of the rule', () => {
    const reason = (output: string): string => JSON.stringify(parseTranslation(`${HEADER}${output}\n`, 'nat', 'PREROUTING'));
    assert.match(reason('add rule ip filter INPUT accept'), /unexpected translation/);
    assert.match(reason('flush ruleset'), /unexpected translation/);
    assert.match(reason('add rule ip nat PREROUTING accept; flush ruleset'), /contains \\";\\"/);
  });
});

describe('translating a policy\'s raw rules', { skip: spawnSync('iptables-restore-translate', ['-V']).status === 0 ? false : 'needs iptables-restore-translate (Debian iptables)' }, () => {
  const policy = parsePolicyFiles([
    {
      path: 'p.yaml',
      text: `
raw:
  Redirect: { iptables: { table: nat, rule: "-A PREROUTING -p tcp --dport 80 -m comment --comment \\"to the proxy\\" -j REDIRECT --to-ports 8080" } }
  Physdev: { iptables: { table: filter, rule: "-A FORWARD -m physdev --physdev-is-bridged -j ACCEPT" } }
  Bogus: { iptables: { table: filter, rule: "-A INPUT --no-such-option -j ACCEPT" } }
  Both: { nft: "add rule inet palisade input accept", iptables: { table: filter, rule: "-A INPUT -j ACCEPT" } }
`,
    },
  ]).policy;

  it('translates what it can (quotes read as iptables-restore reads them), names why not otherwise, and leaves rules with an nft form alone', async () => {
    const translations = await translateRawRules(policy.raw);
    assert.deepEqual(translations.get('Redirect'), { nft: ['meta nfproto ipv4 tcp dport 80 counter redirect to :8080 comment "to the proxy"'] });
    assert.deepEqual(translations.get('Physdev'), { error: 'no nft equivalent for one of its matches or its target' });
    assert.deepEqual(translations.get('Bogus'), { error: 'unknown option "--no-such-option"' });
    assert.equal(translations.has('Both'), false);
  });
});
