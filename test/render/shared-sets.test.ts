import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderIptables } from '../../src/render/iptables.ts';
import { renderNft } from '../../src/render/nft.ts';
import { SharedSets } from '../../src/render/shared-sets.ts';
import { loadWorkspace } from '../../src/app/workspace.ts';
import type { Ruleset } from '../../src/compile/ir.ts';
import { fixture } from './fixture.ts';

const texts = (rs: Ruleset, shared?: SharedSets): string[] => {
  const ipt = renderIptables(rs, shared).toText();
  return [renderNft(rs, shared), ipt.ipset, ipt.v4, ipt.v6];
};

describe('set renderings shared by a fleet run', () => {
  it('render every host of the example byte for byte as each host alone, each set once', async () => {
    const ws = await loadWorkspace({ resolve: false });
    const shared = new SharedSets();
    const rulesets = ws.compiler.compileAll();
    for (const rs of rulesets) assert.deepEqual(texts(rs, shared), texts(rs), rs.host);
    const distinct = new Set(rulesets.flatMap((rs) => rs.sets.map((s) => s.name)));
    assert.ok(rulesets.reduce((n, rs) => n + rs.sets.length, 0) > distinct.size, 'the example has sets that several hosts share');
    assert.deepEqual(shared.sizes, { nft: distinct.size, ipset: distinct.size });
  });

  it('render a set that changed under the same name (an incremental update) with its new elements', () => {
    const shared = new SharedSets();
    const before = fixture();
    texts(before, shared);
    const after: Ruleset = { ...before, sets: before.sets.map((s) => (s.name === 'pal4_web0000000000' ? { ...s, elements: ['10.0.1.11', '10.0.1.13'] } : s)) };
    const [nft, ipset] = texts(after, shared);
    assert.deepEqual(texts(after, shared), texts(after));
    assert.match(nft as string, /elements = \{ 10\.0\.1\.11, 10\.0\.1\.13 \}/);
    assert.match(ipset as string, /add pal4_web0000000000 10\.0\.1\.13\n/);
    assert.doesNotMatch(ipset as string, /10\.0\.1\.12/);
  });

  it('still refuse a hostile element, also when the set is shared', () => {
    const shared = new SharedSets();
    const rs = fixture();
    const hostile: Ruleset = { ...rs, sets: rs.sets.map((s) => (s.name === 'pal4_web0000000000' ? { ...s, elements: ['10.0.1.11 }; flush ruleset; #'] } : s)) };
    assert.throws(() => renderNft(hostile, shared), /unsafe address name/);
    assert.throws(() => renderIptables(hostile, shared), /unsafe address name/);
  });
});
