import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkName, checkRawText, safeComment, shorten } from '../../src/render/escape.ts';
import { HOSTILE_COMMENT } from './fixture.ts';

describe('safeComment', () => {
  it('keeps ordinary text', () => {
    assert.equal(safeComment('MongoDB App Entry Point (roles:web) 10.0.0.0/8 a_b-c.d', 200), 'MongoDB App Entry Point (roles:web) 10.0.0.0/8 a_b-c.d');
  });

  it('replaces quotes, separators and line breaks, each run by one _', () => {
    assert.equal(safeComment(HOSTILE_COMMENT, 200), 'Evil _ flush ruleset_-A INPUT -j ACCEPT_');
    assert.equal(safeComment('a\'b`c$d#e{f}g\\h', 200), 'a_b_c_d_e_f_g_h');
    assert.equal(safeComment('a\r\n\t\0b', 200), 'a_b');
  });

  it('replaces non-ASCII code points, one _ per run', () => {
    assert.equal(safeComment('café ☕ 👍🏽', 200), 'caf_ _ _');
  });

  it('truncates to maxBytes', () => {
    assert.equal(safeComment('abcdefgh', 5), 'abcde');
    assert.equal(safeComment('ab"cd', 3), 'ab_');
    assert.equal(safeComment('abc', 0), '');
  });
});

describe('checkName', () => {
  it('accepts names of the safe charset', () => {
    assert.equal(checkName('interface', 'eth0.100'), 'eth0.100');
    assert.equal(checkName('interface', 'br-lan_1'), 'br-lan_1');
    assert.equal(checkName('set', 'pal4_0123456789ab'), 'pal4_0123456789ab');
    assert.equal(checkName('chain', 'user_www-data'), 'user_www-data');
    assert.equal(checkName('address', '2001:db8::/32'), '2001:db8::/32');
  });

  it('throws on anything else', () => {
    assert.throws(() => checkName('interface', 'eth0" accept'), /unsafe interface name/);
    assert.throws(() => checkName('interface', 'averylonginterface0'), /unsafe interface name/);
    assert.throws(() => checkName('interface', ''), /unsafe interface name/);
    assert.throws(() => checkName('set', 'pal4-x'), /unsafe set name/);
    assert.throws(() => checkName('set', `s${'x'.repeat(31)}`), /unsafe set name/);
    assert.throws(() => checkName('chain', '1chain'), /unsafe chain name/);
    assert.throws(() => checkName('chain', 'user_x\n}'), /unsafe chain name/);
    assert.throws(() => checkName('address', '10.0.0.1 }'), /unsafe address name/);
  });
});

describe('checkRawText', () => {
  it('passes one line through and refuses line breaks', () => {
    assert.equal(checkRawText('oifname "br0" accept'), 'oifname "br0" accept');
    assert.throws(() => checkRawText('accept\nflush ruleset'), /control character/);
  });
});

describe('shorten', () => {
  it('keeps short text and cuts long text to a prefix and a hash, deterministically', () => {
    assert.equal(shorten('PALISADE-U-www', 28), 'PALISADE-U-www');
    const a = shorten('PALISADE-U-averyveryverylongusername', 28);
    assert.equal(a.length, 28);
    assert.match(a, /^PALISADE-U-averyveryv-[0-9a-f]{6}$/);
    assert.equal(shorten('PALISADE-U-averyveryverylongusername', 28), a);
    assert.notEqual(shorten('PALISADE-U-averyveryverylongusernamf', 28), a);
  });
});
