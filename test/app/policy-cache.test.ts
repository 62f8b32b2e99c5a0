/**
 * The policy cache of a state directory (src/app/policy-cache.ts): an unchanged policy is loaded from it with
 * the same result and without the translator; anything its loading depends on changes the key; a damaged,
 * torn or foreign entry is never used; a policy with errors or a failed translation is never kept; and no
 * failure of the cache fails a load.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTranslatedPolicy, POLICY_CACHE_FILE } from '../../src/app/policy-cache.ts';
import { InputError } from '../../src/diagnostics.ts';
import { fileIdentity } from '../../src/file-identity.ts';
import { observeTools } from '../../src/kernel/exec.ts';
import { TRANSLATE_TOOL } from '../../src/kernel/iptables-translate.ts';
import { tempDir } from '../helpers/tmp.ts';

const BUILD = 'test-build';

let policies = 0;

/** A policy of its own per test: the translator's answers are kept in the process, by rule. */
const policyText = (): string => POLICY.replace('10.1.0.0/16', `10.1.${(policies += 1)}.0/24`);

const POLICY = `rules:
  ssh in:
    direction: in
    protocol: tcp
    dport: ssh
    source: roles:admin
  web out:
    direction: out
    protocol: tcp
    dport: [80, https]
    destination: 10.0.0.0/8
raw:
  masquerade:
    iptables:
      table: nat
      rule: -A POSTROUTING -s 10.1.0.0/16 -j MASQUERADE
`;

function workspace(policy = policyText()): { policy: string; state: string } {
  const dir = tempDir('pal-policy-cache-');
  const state = join(dir, 'state');
  mkdirSync(state, { mode: 0o700 });
  writeFileSync(join(dir, 'policy.yaml'), policy);
  return { policy: join(dir, 'policy.yaml'), state };
}

/** The load, whether the translator ran for it, and whether it came from the cache (its entry left as it was). */
async function load(paths: string[], state: string | null, build: string | null = BUILD): Promise<{ loaded: Awaited<ReturnType<typeof loadTranslatedPolicy>>; translated: boolean; hit: boolean }> {
  let translated = false;
  const stop = observeTools((argv) => {
    if (argv.includes(TRANSLATE_TOOL)) translated = true;
  });
  const entry = (): string | null => (state === null ? null : fileIdentity(join(state, POLICY_CACHE_FILE)));
  const before = entry();
  try {
    const loaded = await loadTranslatedPolicy(paths, state, build);
    return { loaded, translated, hit: before !== null && entry() === before };
  } finally {
    stop();
  }
}

/** Plain data, as compared: the translations' map as entries. */
const plain = (l: Awaited<ReturnType<typeof loadTranslatedPolicy>>): unknown => ({ policy: l.policy, diagnostics: l.diagnostics, translations: [...l.rawTranslations] });

describe('policy cache', () => {
  it('an unchanged policy loads from the cache: the same policy, warnings and translations, without the translator', async () => {
    const ws = workspace();
    const uncached = await load([ws.policy], null);
    assert.equal(uncached.translated, true);
    const first = await load([ws.policy], ws.state);
    assert.ok(existsSync(join(ws.state, POLICY_CACHE_FILE)));
    assert.deepEqual(plain(first.loaded), plain(uncached.loaded));
    const second = await load([ws.policy], ws.state);
    assert.equal(second.hit, true);
    assert.equal(second.translated, false, 'no translator run');
    assert.deepEqual(plain(second.loaded), plain(uncached.loaded));
    assert.ok(second.loaded.rawTranslations instanceof Map);
  });

  it('an edited policy is loaded again, whatever its size and times', async () => {
    const ws = workspace();
    await load([ws.policy], ws.state);
    const text = readFileSync(ws.policy, 'utf8');
    const edited = text.replace('10.0.0.0/8', '10.0.0.0/9');
    assert.equal(edited.length, text.length);
    writeFileSync(ws.policy, edited);
    const again = JSON.stringify((await load([ws.policy], ws.state)).loaded.policy.rules);
    assert.match(again, /10\.0\.0\.0\/9/);
    assert.doesNotMatch(again, /10\.0\.0\.0\/8/);
  });

  it('another build, another file list or a directory that gained a file is another key', async () => {
    const ws = workspace();
    await load([ws.policy], ws.state);
    assert.equal((await load([ws.policy], ws.state)).hit, true);
    assert.equal((await load([ws.policy], ws.state, 'another-build')).hit, false);
    const dir = join(ws.state, '..', 'more');
    mkdirSync(dir);
    const empty = await load([ws.policy, dir], ws.state);
    assert.match(JSON.stringify(empty.loaded.diagnostics), /no \.yaml, \.yml or \.json policy files in this directory/);
    writeFileSync(join(dir, 'extra.yaml'), 'rules:\n  extra in:\n    direction: in\n    protocol: tcp\n    dport: 8080\n    source: 10.9.0.0/16\n');
    const more = await load([ws.policy, dir], ws.state);
    assert.deepEqual(more.loaded.diagnostics, []);
    assert.ok(more.loaded.policy.rules.some((r) => r.name === 'extra in'));
  });

  it('from source (no build identity), or without a state directory, nothing is kept', async () => {
    const ws = workspace();
    await load([ws.policy], ws.state, null);
    assert.equal(existsSync(join(ws.state, POLICY_CACHE_FILE)), false);
    assert.equal((await load([ws.policy], ws.state, null)).hit, false);
  });

  it('a damaged, torn or foreign entry is not used, and is replaced', async () => {
    const ws = workspace();
    const expected = plain((await load([ws.policy], null)).loaded);
    await load([ws.policy], ws.state);
    const file = join(ws.state, POLICY_CACHE_FILE);
    const entry = readFileSync(file, 'utf8');
    const [key, sum, payload] = [entry.slice(0, entry.indexOf('\n')), entry.split('\n')[1] as string, entry.slice(entry.indexOf('\n', entry.indexOf('\n') + 1) + 1)];
    const hostile = payload.replace('10.0.0.0/8', '0.0.0.0/0');
    assert.notEqual(hostile, payload);
    for (const damaged of [
      entry.slice(0, entry.length / 2),
      `${key}\n${sum}\n${hostile}`,
      `${key}\n${sum}`,
      `not-the-key\n${sum}\n${payload}`,
      '',
      '\n\n{}',
    ]) {
      writeFileSync(file, damaged);
      const r = await load([ws.policy], ws.state);
      assert.equal(r.hit, false, 'loaded again');
      assert.deepEqual(plain(r.loaded), expected);
      assert.equal(readFileSync(file, 'utf8'), entry, 'and kept again');
    }
  });

  it('a policy with errors is an error as without the cache, and is never kept', async () => {
    const ws = workspace('rules:\n  bad:\n    direction: sideways\n');
    await assert.rejects(load([ws.policy], ws.state), (e: unknown) => e instanceof InputError && /direction/.test(e.message));
    assert.equal(existsSync(join(ws.state, POLICY_CACHE_FILE)), false);
  });

  it('a translation that failed is not kept (the translator may answer next time)', async () => {
    const ws = workspace();
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const r = await load([ws.policy], ws.state);
      assert.match(JSON.stringify([...r.loaded.rawTranslations.values()]), /cannot run/);
    } finally {
      process.env.PATH = path;
    }
    assert.equal(existsSync(join(ws.state, POLICY_CACHE_FILE)), false);
    const answered = await load([ws.policy], ws.state);
    assert.ok([...answered.loaded.rawTranslations.values()].every((t) => 'nft' in t));
    assert.ok(existsSync(join(ws.state, POLICY_CACHE_FILE)));
  });

  it('a state directory it cannot write to, or that is missing, costs only the parse', async () => {
    const ws = workspace();
    const notDirectory = join(ws.state, 'a-file');
    writeFileSync(notDirectory, '');
    assert.equal((await load([ws.policy], notDirectory)).loaded.policy.rules.length, 2);
    const missing = join(ws.state, 'missing');
    assert.equal((await load([ws.policy], missing)).loaded.policy.rules.length, 2);
    assert.equal(existsSync(missing), false, 'never created');
  });
});
