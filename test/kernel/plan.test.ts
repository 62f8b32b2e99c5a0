/** The pure parts of the kernel backends (iptables-restore batches, ipset staging and updates, nft scripts), drift, durations. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration } from '../../src/duration.ts';
import { compareListings } from '../../src/apply/drift.ts';
import { diffRulesets } from '../../src/compile/diff.ts';
import { parseSaved, planRestore, planTable } from '../../src/kernel/iptables-plan.ts';
import { canonicalSets, membershipScripts, parseSavedSets, stageScript, swapScript } from '../../src/kernel/ipset.ts';
import { nftListingAfterMembership, nftLoadScript, nftMembershipScript } from '../../src/kernel/nft.ts';
import { IPTABLES_TABLES_V4, renderIptables, type IptablesTable } from '../../src/render/iptables.ts';
import { fixture } from '../render/fixture.ts';

const saved = (lines: string): IptablesTable[] => parseSaved(`*filter\n:INPUT ACCEPT [0:0]\n${lines}\nCOMMIT\n`);
const filter = (tables: readonly IptablesTable[]): IptablesTable | null => tables.find((t) => t.name === 'filter') ?? null;

describe('iptables-restore batches, planned on the renderer\'s structures', () => {
  const wanted = renderIptables(fixture()).v4;

  it('insert the jumps on a clean host', () => {
    const batch = planRestore(IPTABLES_TABLES_V4, wanted, []);
    assert.match(batch, /^-I INPUT 1 -j PALISADE-INPUT$/m);
    assert.match(batch, /^-I POSTROUTING 1 -j PALISADE-POSTROUTING$/m);
  });

  it('never insert a jump that exists, and delete duplicates', () => {
    const existing = saved(':PALISADE-INPUT - [0:0]\n-A INPUT -j PALISADE-INPUT\n-A INPUT -j PALISADE-INPUT\n-A INPUT -i eth0 -j ACCEPT');
    const batch = planTable('filter', filter(wanted), filter(existing)) ?? '';
    assert.doesNotMatch(batch, /-I INPUT 1 -j PALISADE-INPUT/);
    assert.equal(batch.match(/^-D INPUT -j PALISADE-INPUT$/gm)?.length, 1);
    assert.match(batch, /^-I OUTPUT 1 -j PALISADE-OUTPUT$/m);
  });

  it('flush and delete chains no longer wanted, with their jumps', () => {
    const existing = saved(':PALISADE-U-gone - [0:0]\n:PALISADE-FORWARD - [0:0]\n-A FORWARD -j PALISADE-FORWARD\n-A PALISADE-U-gone -j DROP');
    const batch = planTable('filter', null, filter(existing)) ?? '';
    assert.deepEqual(batch.split('\n'), ['*filter', ':PALISADE-U-gone - [0:0]', ':PALISADE-FORWARD - [0:0]', '-D FORWARD -j PALISADE-FORWARD', '-X PALISADE-U-gone', '-X PALISADE-FORWARD', 'COMMIT']);
  });

  it('leave tables without palisade chains alone', () => {
    assert.equal(planTable('nat', null, filter(saved('-A INPUT -j ACCEPT'))), null);
  });

  it('reads back what it loads: saved text of a rendering parses into the same structures', () => {
    assert.deepEqual(parseSaved(renderIptables(fixture()).toText().v4), wanted);
  });
});

describe('ipset', () => {
  const sets = renderIptables(fixture()).sets;

  it('stages into staging sets, creates the real sets, swaps', () => {
    const stage = stageScript(sets);
    assert.match(stage, /^create paltmp_0 hash:net family inet maxelem 1048576\nadd paltmp_0 0\.0\.0\.0\/1\nadd paltmp_0 128\.0\.0\.0\/1\ncreate pal4_any0000000000 hash:net family inet maxelem 1048576 -exist$/m);
    assert.match(swapScript(sets), /^swap paltmp_3 pal4_web0000000000$/m);
  });

  it('membership changes from the IR diff: deletions then additions, and their undo', () => {
    const after = fixture();
    (after.sets[3] as { elements: string[] }).elements = ['10.0.1.12', '10.0.1.13'];
    assert.deepEqual(membershipScripts(diffRulesets(fixture(), after)), {
      forward: 'del pal4_web0000000000 10.0.1.11 -exist\nadd pal4_web0000000000 10.0.1.13 -exist\n',
      undo: 'del pal4_web0000000000 10.0.1.13 -exist\nadd pal4_web0000000000 10.0.1.11 -exist\n',
    });
  });

  it('a /0 element is its two halves in updates too', () => {
    const before = fixture();
    const after = fixture();
    (after.sets[3] as { elements: string[] }).elements = ['0.0.0.0/0'];
    assert.match(membershipScripts(diffRulesets(before, after)).forward, /^add pal4_web0000000000 0\.0\.0\.0\/1 -exist\nadd pal4_web0000000000 128\.0\.0\.0\/1 -exist$/m);
  });

  it('reads palisade sets from ipset save; canonical listing without hash parameters, elements sorted', () => {
    const text = 'create a hash:net family inet\ncreate pal4_x hash:net family inet hashsize 1024 maxelem 65536 bucketsize 12 initval 0x1\nadd pal4_x 10.0.0.2\nadd pal4_x 10.0.0.1\ncreate paltmp_0 hash:net family inet\ncreate pal6_y hash:net family inet6\n';
    const saved = parseSavedSets(text);
    assert.deepEqual(saved, { sets: [{ name: 'pal4_x', family: 4, elements: ['10.0.0.2', '10.0.0.1'] }, { name: 'pal6_y', family: 6, elements: [] }], staging: ['paltmp_0'] });
    assert.deepEqual(canonicalSets(saved.sets), ['ipset create pal4_x hash:net family inet', 'ipset create pal6_y hash:net family inet6', 'ipset add pal4_x 10.0.0.1', 'ipset add pal4_x 10.0.0.2']);
  });
});

describe('nft scripts', () => {
  it('the load script creates, deletes and redefines the table in one transaction', () => {
    assert.match(nftLoadScript(fixture()), /^add table inet palisade\ndelete table inet palisade\ntable inet palisade \{\n/);
  });

  it('membership updates delete then add elements', () => {
    const after = fixture();
    (after.sets[3] as { elements: string[] }).elements = ['10.0.1.12', '10.0.1.13'];
    assert.equal(nftMembershipScript(fixture(), after), 'delete element inet palisade pal4_web0000000000 { 10.0.1.11 }\nadd element inet palisade pal4_web0000000000 { 10.0.1.13 }\n');
    assert.throws(() => nftMembershipScript(fixture(), { ...after, chains: [] }), /not a membership-only change/);
  });
});

describe('drift, durations, the systemd unit', () => {
  it('compares listings line by line and by order', () => {
    assert.equal(compareListings('nft', 'a\nb', 'a\nb').drifted, false);
    assert.deepEqual(compareListings('nft', 'a\nb', 'a\nc'), { drifted: true, backend: 'nft', extra: ['c'], missing: ['b'] });
    assert.equal(compareListings('nft', 'a\nb', 'b\na').drifted, true);
    assert.equal(compareListings('nft', null, 'x').drifted, true);
  });

  it('parses durations', () => {
    assert.deepEqual(['30s', '2m', '500ms', '1h', '45', '24h', '0', 'soon', '24.01h', '597h', '99999999999999'].map(parseDuration), [30_000, 120_000, 500, 3_600_000, 45_000, 86_400_000, null, null, null, null, null]);
  });
});

describe('nft listing after a membership change', () => {
  const set = (name: string, elem?: unknown[]): string => JSON.stringify({ set: { family: 'inet', name, table: 'palisade', type: 'ipv4_addr', flags: ['interval'], ...(elem === undefined ? {} : { elem }) } });
  const listing = [JSON.stringify({ table: { family: 'inet', name: 'palisade' } }), set('pal4_nets000000000', ['10.0.0.1', { prefix: { addr: '10.1.0.0', len: 16 } }]), set('pal4_empty00000000')].join('\n');
  const withSets = (nets: string[], empty: string[]) => {
    const rs = fixture();
    return { ...rs, sets: rs.sets.map((s) => (s.name === 'pal4_nets000000000' ? { ...s, elements: nets } : s.name === 'pal4_empty00000000' ? { ...s, elements: empty } : s)) };
  };

  it('removes, adds and sorts elements as the kernel lists them; empty sets lose elem', () => {
    const derived = nftListingAfterMembership(listing, withSets(['10.0.0.1', '10.1.0.0/16'], []), withSets(['10.0.0.0/24', '10.0.0.9'], ['10.2.0.1']));
    assert.equal(
      derived,
      [JSON.stringify({ table: { family: 'inet', name: 'palisade' } }), set('pal4_nets000000000', ['10.0.0.9', { prefix: { addr: '10.0.0.0', len: 24 } }]), set('pal4_empty00000000', ['10.2.0.1'])].join('\n'),
    );
    assert.equal(nftListingAfterMembership(listing, withSets(['10.0.0.1', '10.1.0.0/16'], []), withSets([], [])), [JSON.stringify({ table: { family: 'inet', name: 'palisade' } }), set('pal4_nets000000000'), set('pal4_empty00000000')].join('\n'));
  });

  it('is null when a changed set is not in the listing', () => {
    assert.equal(nftListingAfterMembership(listing.split('\n')[0] ?? '', withSets(['10.0.0.1', '10.1.0.0/16'], []), withSets(['10.0.0.1'], [])), null);
  });
});
