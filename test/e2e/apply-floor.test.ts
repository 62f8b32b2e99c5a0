/**
 * Issue 15 item 2, behaviour pinned (not timing), on the real kernel in a throwaway namespace: a caller that
 * watches the kernel (the agent) applies an unchanged ruleset without the lock and without running any
 * kernel tool; an element-only change is one `nft -f` (no `nft -c`, no listing) and its derived listing is
 * what the kernel lists; a change by anyone else brings the listing back, and drift is still found. The command
 * line (no watch) lists once, for the drift check, and records an element-only change without listing again.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { applyRuleset, type ApplyReport } from '../../src/apply/apply.ts';
import type { HostContext } from '../../src/apply/context.ts';
import { listKernelEarly, type EarlyListing } from '../../src/apply/early-listing.ts';
import { acquireLock } from '../../src/apply/lock.ts';
import { JOURNAL_FILE, loadState } from '../../src/apply/state.ts';
import { hostStatus } from '../../src/apply/status.ts';
import type { Ruleset } from '../../src/compile/ir.ts';
import { observeTools } from '../../src/kernel/exec.ts';
import { stopWatchingGeneration } from '../../src/kernel/nft-generation.ts';
import { namespaceName, run, skipUnlessRoot } from '../helpers/netns.ts';
import { tempDir } from '../helpers/tmp.ts';
import { fixture } from '../render/fixture.ts';

const WEB = 'pal4_web0000000000';

function withWeb(elements: string[]): Ruleset {
  const rs = fixture();
  return { ...rs, sets: rs.sets.map((s) => (s.name === WEB ? { ...s, elements } : s)) };
}

/** The argv of every kernel tool run by fn. */
async function tools(fn: () => Promise<unknown>): Promise<string[][]> {
  const seen: string[][] = [];
  const stop = observeTools((argv) => seen.push([...argv]));
  try {
    await fn();
  } finally {
    stop();
  }
  return seen;
}

describe('apply near the floor (nft, a caller watching the kernel)', { skip: skipUnlessRoot }, () => {
  const netns = namespaceName('pal-floor');
  let ctx: HostContext;
  const apply = (rs: Ruleset, lockTimeoutMs = 10_000): Promise<ApplyReport> =>
    applyRuleset({ ...ctx, lockTimeoutMs }, { ruleset: rs, backend: 'nft', dryRun: false, force: false, confirmMs: null, sshConnection: undefined });

  before(() => {
    if (skipUnlessRoot !== false) return;
    run('ip', ['netns', 'add', netns]);
    ctx = { stateDir: join(tempDir('pal-floor-'), 'state'), target: { netns }, lockTimeoutMs: 10_000, command: ['test'], watchKernel: true };
  });
  after(() => {
    if (skipUnlessRoot !== false) return;
    stopWatchingGeneration({ netns });
    spawnSync('ip', ['netns', 'del', netns]);
  });

  it('an unchanged ruleset: no lock, no kernel tool at all', async () => {
    assert.equal((await apply(withWeb(['10.0.1.11']))).mode, 'full');
    assert.equal((await apply(withWeb(['10.0.1.11']))).mode, 'unchanged');
    const lock = await acquireLock(ctx.stateDir, 0, { command: ['test holder'] });
    try {
      let report: ApplyReport | undefined;
      const calls = await tools(async () => {
        report = await apply(withWeb(['10.0.1.11']), 0);
      });
      assert.equal(report?.mode, 'unchanged');
      assert.deepEqual(calls, [], 'no listing, no tool');
    } finally {
      await lock.release();
    }
  });

  it('an element-only change: one nft -f, no nft -c, no listing; the derived listing is what the kernel holds', async () => {
    let report: ApplyReport | undefined;
    const calls = await tools(async () => {
      report = await apply(withWeb(['10.0.1.12', '10.0.1.13']));
    });
    assert.equal(report?.mode, 'membership');
    const nft = calls.map((argv) => argv.slice(argv.indexOf('nft') + 1).join(' '));
    assert.deepEqual(nft, ['-f -'], calls.map((c) => c.join(' ')).join('\n'));
    const status = await hostStatus(ctx.stateDir, ctx.target);
    assert.equal(status.drift.drifted, false, JSON.stringify(status.drift));
    assert.deepEqual(await tools(() => apply(withWeb(['10.0.1.12', '10.0.1.13']))), []);
  });

  it('a chain of element-only changes: each listing derived when read, from the first, is what the kernel holds', async () => {
    for (const web of [['10.0.1.13', '10.0.1.14'], ['10.0.1.11', '10.0.1.13', '10.0.1.14', '10.0.1.15'], ['10.0.1.12', '10.0.1.13']]) {
      assert.equal((await apply(withWeb(web))).mode, 'membership');
    }
    const status = await hostStatus(ctx.stateDir, ctx.target);
    assert.equal(status.drift.drifted, false, JSON.stringify(status.drift));
    /* Read back as another process would (a copy: nothing from this process's cache), the journal gives the same state. */
    const copy = tempDir('pal-floor-copy-');
    cpSync(ctx.stateDir, copy, { recursive: true });
    assert.ok(existsSync(join(copy, JOURNAL_FILE)), 'element-only changes are journal lines');
    const [here, there] = [await loadState(ctx.stateDir), await loadState(copy)];
    assert.deepEqual(JSON.parse(JSON.stringify(there)), JSON.parse(JSON.stringify(here)));
  });

  it("another tool's change brings the listing back (no drift: unchanged); a hand-made change to palisade's set is drift, repaired", async () => {
    run('ip', ['netns', 'exec', netns, 'nft', 'add', 'table', 'inet', 'other']);
    /* The monitor reports a change a moment after it: a change in that moment is seen by the next cycle. */
    await delay(300);
    const listed = await tools(async () => assert.equal((await apply(withWeb(['10.0.1.12', '10.0.1.13']))).mode, 'unchanged'));
    assert.ok(listed.some((argv) => argv.includes('list')), 'listed once the generation moved');
    assert.deepEqual(await tools(() => apply(withWeb(['10.0.1.12', '10.0.1.13']))), [], 'and trusted again');
    run('ip', ['netns', 'exec', netns, 'nft', 'add', 'element', 'inet', 'palisade', WEB, '{ 10.9.9.9 }']);
    await delay(300);
    const r = await apply(withWeb(['10.0.1.12', '10.0.1.13']));
    assert.equal(r.drift.drifted, true);
    assert.equal(r.mode, 'full');
    assert.doesNotMatch(run('ip', ['netns', 'exec', netns, 'nft', 'list', 'set', 'inet', 'palisade', WEB]), /10\.9\.9\.9/);
    assert.equal((await hostStatus(ctx.stateDir, ctx.target)).drift.drifted, false);
  });
});

describe('apply from the command line (nft, a caller not watching the kernel)', { skip: skipUnlessRoot }, () => {
  const netns = namespaceName('pal-cli-floor');
  let ctx: HostContext;
  const apply = (rs: Ruleset, earlyListing?: EarlyListing | null): Promise<ApplyReport> =>
    applyRuleset(ctx, { ruleset: rs, backend: 'nft', dryRun: false, force: false, confirmMs: null, sshConnection: undefined, earlyListing });
  const nftArgs = (calls: string[][]): string[] => calls.map((argv) => argv.slice(argv.indexOf('nft') + 1).join(' '));

  before(() => {
    if (skipUnlessRoot !== false) return;
    run('ip', ['netns', 'add', netns]);
    ctx = { stateDir: join(tempDir('pal-cli-floor-'), 'state'), target: { netns }, lockTimeoutMs: 10_000, command: ['test'] };
  });
  after(() => {
    if (skipUnlessRoot !== false) return;
    spawnSync('ip', ['netns', 'del', netns]);
  });

  it('an element-only change: the drift check lists, one nft -f loads, nothing lists again; the recorded listing is what the kernel holds', async () => {
    assert.equal((await apply(withWeb(['10.0.1.11']))).mode, 'full');
    let report: ApplyReport | undefined;
    const calls = await tools(async () => {
      report = await apply(withWeb(['10.0.1.12', '10.0.1.13']));
    });
    assert.equal(report?.mode, 'membership');
    const nft = calls.map((argv) => argv.slice(argv.indexOf('nft') + 1).join(' '));
    assert.deepEqual(nft, ['-j list table inet palisade', '-f -'], calls.map((c) => c.join(' ')).join('\n'));
    assert.ok(existsSync(join(ctx.stateDir, JOURNAL_FILE)), 'recorded as a journal line');
    assert.equal((await hostStatus(ctx.stateDir, ctx.target)).drift.drifted, false);
    assert.equal((await apply(withWeb(['10.0.1.12', '10.0.1.13']))).mode, 'unchanged');
  });

  it("an element added by hand after the change is drift at the next run, not recorded as palisade's", async () => {
    assert.equal((await apply(withWeb(['10.0.1.14']))).mode, 'membership');
    run('ip', ['netns', 'exec', netns, 'nft', 'add', 'element', 'inet', 'palisade', WEB, '{ 10.9.9.9 }']);
    const status = await hostStatus(ctx.stateDir, ctx.target);
    assert.equal(status.drift.drifted, true);
    const r = await apply(withWeb(['10.0.1.14']));
    assert.equal(r.drift.drifted, true);
    assert.equal(r.mode, 'full');
    assert.doesNotMatch(run('ip', ['netns', 'exec', netns, 'nft', 'list', 'set', 'inet', 'palisade', WEB]), /10\.9\.9\.9/);
  });

  it('a listing asked for before the ruleset compiled (listKernelEarly) is the drift check: the apply itself only loads', async () => {
    let early: EarlyListing | null = null;
    const asked = await tools(async () => {
      early = listKernelEarly(ctx, 'nft');
      await early?.listing;
    });
    assert.deepEqual(nftArgs(asked), ['-j list table inet palisade']);
    let report: ApplyReport | undefined;
    const calls = await tools(async () => {
      report = await apply(withWeb(['10.0.1.15']), early);
    });
    assert.equal(report?.mode, 'membership');
    assert.equal(report?.drift.drifted, false);
    assert.deepEqual(nftArgs(calls), ['-f -']);
    assert.equal((await hostStatus(ctx.stateDir, ctx.target)).drift.drifted, false);
  });

  it('an early listing is not trusted once another palisade changed the kernel (its state changed): listed again, no false drift', async () => {
    const early = listKernelEarly(ctx, 'nft');
    await early?.listing;
    /* Another apply, between the early listing and this one's lock. */
    assert.equal((await apply(withWeb(['10.0.1.16']))).mode, 'membership');
    let report: ApplyReport | undefined;
    const calls = await tools(async () => {
      report = await apply(withWeb(['10.0.1.17']), early);
    });
    assert.equal(report?.drift.drifted, false, JSON.stringify(report?.drift));
    assert.equal(report?.mode, 'membership');
    assert.deepEqual(nftArgs(calls), ['-j list table inet palisade', '-f -']);
  });

  it('a change by another tool after the early listing is drift at the next check, not recorded as palisade\'s', async () => {
    const early = listKernelEarly(ctx, 'nft');
    await early?.listing;
    run('ip', ['netns', 'exec', netns, 'nft', 'add', 'element', 'inet', 'palisade', WEB, '{ 10.9.9.8 }']);
    assert.equal((await apply(withWeb(['10.0.1.18']), early)).mode, 'membership');
    const status = await hostStatus(ctx.stateDir, ctx.target);
    assert.equal(status.drift.drifted, true);
    assert.deepEqual(status.drift.extra.length, 1, JSON.stringify(status.drift));
    const r = await apply(withWeb(['10.0.1.18']));
    assert.equal(r.drift.drifted, true);
    assert.equal(r.mode, 'full');
  });

  it('no state yet: nothing is listed early (the apply lists under the lock)', async () => {
    const fresh: HostContext = { ...ctx, stateDir: join(tempDir('pal-cli-early-'), 'state') };
    assert.deepEqual(await tools(async () => assert.equal(listKernelEarly(fresh, 'nft'), null)), []);
  });
});
