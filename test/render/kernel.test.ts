/**
 * The kernel tools accept what the renderers write: checked and really loaded in a throwaway network
 * namespace this test creates and always deletes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderIptables } from '../../src/render/iptables.ts';
import { renderNft } from '../../src/render/nft.ts';
import { LONG_USER, acceptRule, emptyRuleset, fixture } from './fixture.ts';
import { execIn, namespaceName, run, skipUnlessRoot } from '../helpers/netns.ts';

const skip = skipUnlessRoot;

describe('kernel tools accept the rendered files', () => {
  const ns = namespaceName('pal-render');
  const inNs = execIn(ns);
  let dir = '';
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  before(() => {
    if (skip !== false) return;
    dir = mkdtempSync(join(tmpdir(), 'pal-render-'));
    run('ip', ['netns', 'add', ns]);
  });

  after(() => {
    if (skip !== false) return;
    spawnSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('nft -c accepts the script', { skip }, () => {
    inNs('nft', ['-c', '-f', file('ruleset.nft', renderNft(fixture()))]);
    inNs('nft', ['-c', '-f', file('empty.nft', renderNft(emptyRuleset()))]);
  });

  it('nft -c accepts a published-port match whose protocol is also implied by a later source port (found by the fuzz test)', { skip }, () => {
    const rs = emptyRuleset();
    rs.chains.push({ name: 'forward', hook: 'forward', rules: [acceptRule([{ kind: 'proto', protocol: 'udp' }, { kind: 'orig-dport', ports: [{ from: 5353, to: 5353 }] }, { kind: 'sport', ports: [{ from: 53, to: 53 }] }])] });
    inNs('nft', ['-c', '-f', file('orig-dport.nft', renderNft(rs))]);
  });

  it('nft -f loads it next to another table, which survives', { skip }, () => {
    inNs('nft', ['add', 'table', 'inet', 'other']);
    inNs('nft', ['-f', join(dir, 'ruleset.nft')]);
    const listed = inNs('nft', ['list', 'table', 'inet', 'palisade']);
    assert.match(listed, /chain user_www-data \{/);
    assert.match(listed, new RegExp(`chain user_${LONG_USER} \\{`));
    assert.match(listed, /comment "Evil _ flush ruleset_-A INPUT -j ACCEPT_"/);
    assert.match(listed, /elements = \{ 0\.0\.0\.0\/0 \}/);
    assert.match(listed, /counter packets 0 bytes 0 drop/);
    assert.deepEqual(inNs('nft', ['list', 'tables']).trim().split('\n').sort(), ['table inet other', 'table inet palisade']);
  });

  it('ipset restore loads the sets, twice', { skip }, () => {
    const ipset = file('ipset.restore', renderIptables(fixture()).toText().ipset);
    inNs('ipset', ['restore', '-file', ipset]);
    inNs('ipset', ['restore', '-file', ipset]);
    const any = inNs('ipset', ['list', 'pal4_any0000000000']);
    assert.match(any, /^0\.0\.0\.0\/1$/m);
    assert.match(any, /^128\.0\.0\.0\/1$/m);
    assert.match(inNs('ipset', ['list', 'pal6_web0000000000']), /^2001:db8::12$/m);
  });

  it('ipset takes a set larger than its default cap of 65,536 elements', { skip }, () => {
    const big = emptyRuleset();
    const elements = Array.from({ length: 70_000 }, (_, i) => `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`);
    big.sets.push({ name: 'pal4_big000000000', family: 4, elements, interval: false, definition: 'big' });
    inNs('ipset', ['restore', '-file', file('big.restore', renderIptables(big).toText().ipset)]);
    assert.match(inNs('ipset', ['list', '-terse', 'pal4_big000000000']), /Number of entries: 70000/);
  });

  it('iptables-restore and ip6tables-restore --test --noflush accept the rules', { skip }, () => {
    const { v4, v6 } = renderIptables(fixture()).toText();
    inNs('iptables-restore', ['--test', '--noflush', file('rules.v4', v4)]);
    inNs('ip6tables-restore', ['--test', '--noflush', file('rules.v6', v6)]);
    const empty = renderIptables(emptyRuleset()).toText();
    inNs('iptables-restore', ['--test', '--noflush', file('empty.v4', empty.v4)]);
    inNs('ip6tables-restore', ['--test', '--noflush', file('empty.v6', empty.v6)]);
  });

  it('iptables-restore and ip6tables-restore --noflush load them', { skip }, () => {
    inNs('iptables-restore', ['--noflush', join(dir, 'rules.v4')]);
    inNs('ip6tables-restore', ['--noflush', join(dir, 'rules.v6')]);
    assert.match(inNs('iptables', ['-S', 'INPUT']), /^-A INPUT -j PALISADE-INPUT$/m);
    assert.match(inNs('iptables', ['-S', 'PALISADE-OUTPUT']), /--uid-owner 33 .*-j PALISADE-U-www-data$/m);
    assert.match(inNs('iptables', ['-t', 'nat', '-S', 'PALISADE-POSTROUTING']), /-o eth0 -j MASQUERADE/);
    assert.match(inNs('ip6tables', ['-S', 'PALISADE-INPUT']), /--icmpv6-type 135/);
    assert.match(inNs('nft', ['list', 'tables']), /table inet palisade/);
  });
});
