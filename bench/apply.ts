/**
 * Issue 4's benchmark, in a throwaway network namespace: a full apply of a ruleset with a 10,000-element set,
 * and membership-only changes of 1 and 100 elements applied as element updates, on both backends; against
 * the AFW way measured in the same run: reloading the same content written as one rule per address.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyRuleset } from '../src/apply/apply.ts';
import type { HostContext } from '../src/apply/context.ts';
import type { IrRule, Ruleset } from '../src/compile/ir.ts';
import type { BackendName } from '../src/kernel/backend.ts';
import { runTool, type Target } from '../src/kernel/exec.ts';
import { backendFor } from '../src/kernel/load.ts';
import { nftMembershipScript } from '../src/kernel/nft.ts';
import { stopWatchingGeneration } from '../src/kernel/nft-generation.ts';
import { median } from './stats.ts';
import { hostAddress } from './fleet.ts';

const ELEMENTS = 10_000;
const RUNS = 5;
const SET = 'pal4_bench00000000';


function ruleset(elements: string[]): Ruleset {
  const rule = (r: Omit<IrRule, 'comment'>): IrRule => ({ ...r, comment: null });
  return {
    host: 'bench',
    sets: [{ name: SET, family: 4, elements, interval: false, definition: 'bench' }],
    chains: [
      {
        name: 'input',
        hook: 'input',
        rules: [
          rule({ matches: [{ kind: 'iif', name: 'lo' }], verdict: { kind: 'accept' }, origin: { kind: 'base', what: 'loopback' } }),
          rule({ matches: [{ kind: 'ct-established' }], verdict: { kind: 'accept' }, origin: { kind: 'base', what: 'established' } }),
          rule({ matches: [{ kind: 'saddr', set: SET, family: 4 }, { kind: 'proto', protocol: 'tcp' }, { kind: 'dport', ports: [{ from: 5432, to: 5432 }] }], verdict: { kind: 'accept' }, origin: { kind: 'rule', rule: 'DB' } }),
          rule({ matches: [], verdict: { kind: 'log', prefix: 'DROP_PAL_INPUT' }, origin: { kind: 'log' } }),
          rule({ matches: [], verdict: { kind: 'drop' }, origin: { kind: 'default', policy: 'drop' } }),
        ],
      },
    ],
    rawIptables: [],
    warnings: [],
    policyRevision: 'bench',
    inventoryRevision: 'bench',
  };
}

/** The AFW way: one rule per address, the whole table reloaded for any change. */
function afwNft(addresses: readonly string[]): string {
  const rules = addresses.map((a) => `\t\tip saddr ${a} tcp dport 5432 counter accept`).join('\n');
  return `add table inet afw\ndelete table inet afw\ntable inet afw {\n\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n${rules}\n\t\tcounter drop\n\t}\n}\n`;
}

function afwIptables(addresses: readonly string[]): string {
  return `*filter\n:AFW-INPUT - [0:0]\n${addresses.map((a) => `-A AFW-INPUT -s ${a}/32 -p tcp -m tcp --dport 5432 -j ACCEPT`).join('\n')}\n-A AFW-INPUT -j DROP\nCOMMIT\n`;
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function timeRuns(fn: (run: number) => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let run = 0; run < RUNS; run += 1) samples.push(await time(() => fn(run)));
  return median(samples);
}

interface Row {
  backend: BackendName;
  full: number;
  one: number;
  hundred: number;
  baseline: number;
}

async function measure(name: BackendName, target: Target): Promise<Row> {
  const backend = backendFor(name, target);
  const base = Array.from({ length: ELEMENTS }, (_, i) => hostAddress(i));
  const swapped = (n: number, run: number): string[] => [...base.slice(n), ...Array.from({ length: n }, (_, i) => hostAddress(ELEMENTS + run * n + i))];
  const full = await timeRuns((run) => backend.load(ruleset(run % 2 === 0 ? base : swapped(1, run))));
  await backend.load(ruleset(base));
  const change = async (n: number): Promise<number> =>
    timeRuns(async (run) => {
      const after = ruleset(swapped(n, run));
      await backend.updateMembership(ruleset(base), after);
      await backend.updateMembership(after, ruleset(base));
    }).then((ms) => ms / 2);
  const one = await change(1);
  const hundred = await change(100);
  await backend.remove();
  const baseline =
    name === 'nft'
      ? await timeRuns((run) => runTool(target, 'nft', ['-f', '-'], afwNft(run % 2 === 0 ? base : swapped(1, run))))
      : await timeRuns((run) => runTool(target, 'iptables-restore', ['--noflush'], afwIptables(run % 2 === 0 ? base : swapped(1, run))));
  /* The baseline's 10,000 rules would stay in the namespace, where every later nft builds its cache of them. */
  if (name === 'nft') await runTool(target, 'nft', ['delete', 'table', 'inet', 'afw']);
  else await runTool(target, 'iptables-restore', ['--noflush'], '*filter\n-F AFW-INPUT\n-X AFW-INPUT\nCOMMIT\n');
  return { backend: name, full, one, hundred, baseline };
}

/** Runs of the agent's apply path: element changes and unchanged cycles are cheap, so more of them. */
const AGENT_RUNS = 21;

export interface AgentRow {
  floor: number;
  element: number;
  unchanged: number;
}

/**
 * Issue 15 item 2: applyRuleset as the agent calls it (watching the kernel, state on disk, lock) against the
 * kernel floor of the same run: one raw `nft -f` carrying the same delete+add of one element, in a sibling
 * namespace holding the same table (nftables' generation is per namespace: a raw load beside the agent's table
 * would be a change behind its back, which it must then verify with a listing, as it does on a real host).
 */
export async function measureAgent(target: Target, floorTarget: Target): Promise<AgentRow> {
  const stateDir = mkdtempSync(join(tmpdir(), 'pal-bench-state-'));
  try {
    const ctx: HostContext = { stateDir, target, lockTimeoutMs: 30_000, command: ['bench'], watchKernel: true };
    const apply = (rs: Ruleset) => applyRuleset(ctx, { ruleset: rs, backend: 'nft', dryRun: false, force: false, confirmMs: null, sshConnection: undefined });
    const base = Array.from({ length: ELEMENTS }, (_, i) => hostAddress(i));
    const variant = (run: number): Ruleset => ruleset([...base.slice(1), hostAddress(ELEMENTS + run)]);
    await apply(ruleset(base));
    await apply(ruleset(base));
    await backendFor('nft', floorTarget).load(ruleset(base));
    const element: number[] = [];
    const unchanged: number[] = [];
    const floor: number[] = [];
    for (let run = 0; run < AGENT_RUNS; run += 1) {
      const to = variant(run);
      element.push(await time(async () => {
        if ((await apply(to)).mode !== 'membership') throw new Error('bench: expected an element-only apply');
      }));
      /* The same ruleset compiled again: an equal object, not the one applied (which is found unchanged at once). */
      const again = variant(run);
      unchanged.push(await time(async () => {
        if ((await apply(again)).mode !== 'unchanged') throw new Error('bench: expected an unchanged apply');
      }));
      /* The floor: a delete+add of the same size as one raw transaction, there and back. */
      const script = nftMembershipScript(ruleset(base), to);
      const back = nftMembershipScript(to, ruleset(base));
      floor.push(await time(() => runTool(floorTarget, 'nft', ['-f', '-'], script)));
      await runTool(floorTarget, 'nft', ['-f', '-'], back);
    }
    return { floor: median(floor), element: median(element), unchanged: median(unchanged) };
  } finally {
    stopWatchingGeneration(target);
    await backendFor('nft', target).remove();
    await backendFor('nft', floorTarget).remove();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** Runs of the CLI's element-only apply (whole processes). */
const CLI_RUNS = 11;
const ROOT = fileURLToPath(new URL('../', import.meta.url));

interface CliRow {
  /** `node -e 0` in the namespace, the same way. */
  node: number;
  /** palisade apply of a membership-only change. */
  apply: number;
  /** palisade apply of an unchanged ruleset. */
  unchanged: number;
  /** palisade apply of a membership-only change, the policy's text edited since the last apply (no policy cache). */
  edited: number;
}

/**
 * Issue 15 item 2, through the CLI: `palisade apply --host api-1` of the bundled example (the built CLI laid out
 * as npm installs it: bin/, dist/cli/ and package.json under node_modules/palisade/; run in the namespace with
 * `ip netns exec`), alternating two inventories that differ by one web server's IPv4 address, which api-1's
 * rules take from a set: every apply after the first is a change of set members only. A whole process each:
 * node's start, loading the example, compiling, the kernel listing a process without a watch needs to see
 * drift, one `nft -f`, the state.
 */
function measureCliApply(netns: string): CliRow {
  const dir = mkdtempSync(join(tmpdir(), 'pal-bench-cli-'));
  try {
    const installed = join(dir, 'node_modules/palisade');
    for (const part of ['bin', 'dist/cli', 'package.json']) cpSync(join(ROOT, part), join(installed, part), { recursive: true });
    cpSync(join(ROOT, 'examples/shop'), join(dir, 'shop'), { recursive: true });
    const original = readFileSync(join(dir, 'shop/inventory.yaml'), 'utf8');
    if (!original.includes('10.10.2.21,')) throw new Error('bench: the example no longer has web-shop-1 at 10.10.2.21');
    writeFileSync(join(dir, 'moved.yaml'), original.replace('10.10.2.21,', '10.10.2.29,'));
    const config = (inventory: string): string => {
      const path = join(dir, `${inventory.replace(/\W/g, '-')}.palisade.yaml`);
      writeFileSync(path, `policy: [${join(dir, 'shop/policy.yaml')}, ${join(dir, 'shop/roles')}]\ninventory: ${inventory}\ndns: ${join(dir, 'shop/dns.yaml')}\n`);
      return path;
    };
    const configs = [config(join(dir, 'shop/inventory.yaml')), config(join(dir, 'moved.yaml'))];
    const policyPath = join(dir, 'shop/policy.yaml');
    const policyText = readFileSync(policyPath, 'utf8');
    const run = (args: string[]): { ms: number; out: string } => {
      const start = performance.now();
      const r = spawnSync('ip', ['netns', 'exec', netns, ...args], { encoding: 'utf8' });
      const ms = performance.now() - start;
      if (r.status !== 0) throw new Error(`bench: ${args.join(' ')} failed: ${r.stderr}`);
      return { ms, out: r.stdout };
    };
    const apply = (i: number) => run([process.execPath, join(installed, 'bin/palisade.js'), 'apply', '--config', configs[i % 2] as string, '--host', 'api-1', '--state-dir', join(dir, 'state')]);
    /* The first runs write the code caches of the copy. */
    for (let i = 0; i < 3; i += 1) apply(i);
    const node: number[] = [];
    const element: number[] = [];
    const unchanged: number[] = [];
    const edited: number[] = [];
    const elementOnly = (r: { out: string }): void => {
      if (!/updated set elements only/.test(r.out)) throw new Error(`bench: expected an element-only apply, got: ${r.out}`);
    };
    for (let i = 1; i <= CLI_RUNS; i += 1) {
      node.push(run([process.execPath, '-e', '0']).ms);
      const changed = apply(i);
      elementOnly(changed);
      element.push(changed.ms);
      const again = apply(i);
      if (!/already applied/.test(again.out)) throw new Error(`bench: expected an unchanged apply, got: ${again.out}`);
      unchanged.push(again.ms);
      /* A comment edited into the policy: the same rules, another text, which the policy cache has not seen. */
      writeFileSync(policyPath, `${policyText}# edit ${i}\n`);
      const afterEdit = apply(i + 1);
      elementOnly(afterEdit);
      edited.push(afterEdit.ms);
      apply(i);
    }
    return { node: median(node), apply: median(element), unchanged: median(unchanged), edited: median(edited) };
  } finally {
    spawnSync('ip', ['netns', 'exec', netns, 'nft', 'delete', 'table', 'inet', 'palisade']);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchApply(): Promise<string> {
  const netns = `pal-bench-${randomBytes(3).toString('hex')}`;
  const created = spawnSync('ip', ['netns', 'add', netns], { encoding: 'utf8' });
  if (created.status !== 0) return `## Apply (issue 4)\n\nskipped: cannot create a network namespace (${created.stderr.trim() || 'needs root'})\n`;
  const floorNetns = `${netns}-floor`;
  spawnSync('ip', ['netns', 'add', floorNetns]);
  try {
    const rows: Row[] = [];
    for (const name of ['nft', 'iptables'] as const) rows.push(await measure(name, { netns }));
    const agent = await measureAgent({ netns }, { netns: floorNetns });
    const cli = measureCliApply(netns);
    const ms = (n: number): string => n.toFixed(1);
    const ratio = (n: number, b: number): string => `${(n / b).toFixed(3)}x`;
    return [
      '## Apply (issue 4)',
      '',
      `One set of ${ELEMENTS.toLocaleString('en')} IPv4 addresses behind one rule, loaded in a throwaway network namespace; median of ${RUNS} runs, milliseconds, including the tools' process start. Baseline (same run): the AFW way, the same content as ${ELEMENTS.toLocaleString('en')} rules (one per address), reloaded for any change (nft -f of the table; iptables-restore --noflush of the chain).`,
      '',
      '| backend | AFW reload (baseline) | full apply | vs baseline | change 1 element | vs baseline | change 100 elements | vs baseline |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...rows.map((r) => `| ${r.backend} | ${ms(r.baseline)} | ${ms(r.full)} | ${ratio(r.full, r.baseline)} | ${ms(r.one)} | ${ratio(r.one, r.baseline)} | ${ms(r.hundred)} | ${ratio(r.hundred, r.baseline)} |`),
      '',
      'Full apply validates first (nft -c; ipset staging + iptables-restore --test), then loads (nft: one transaction; iptables: sets swapped in, chains restored). Element changes are one `nft -f` transaction of add/delete element, or one `ipset restore` of add/del: no rule is reloaded, counters stay.',
      '',
      '## Apply in the agent, against the kernel floor (issue 15)',
      '',
      `applyRuleset in process as the agent calls it (watching the kernel's generation, state file on disk, lock), the same ${ELEMENTS.toLocaleString('en')}-element set; one element replaced per change (delete + add). Floor (same run): one raw \`nft -f\` carrying the same delete+add, in a sibling namespace holding the same table (a raw load in the agent's own namespace would be a change behind its back, which it then verifies with a listing). Median of ${AGENT_RUNS}, milliseconds.`,
      '',
      '| what | floor: raw nft -f | palisade | vs floor |',
      '|---|---:|---:|---:|',
      `| element-only change | ${ms(agent.floor)} | ${ms(agent.element)} | ${ratio(agent.element, agent.floor)} |`,
      `| unchanged ruleset (floor: nothing) | 0 | ${ms(agent.unchanged)} | ${ratio(agent.unchanged, agent.floor)} of one nft -f |`,
      '',
      `Through the CLI: \`palisade apply --host api-1\` of the bundled example, the built CLI as npm installs it (bin/, dist/cli/ and package.json under node_modules/palisade/, which runs without checking the sources against the build) run in the namespace by \`ip netns exec\`, two inventories alternating that differ by one web server's address (a change of set members only); whole processes, median of ${CLI_RUNS}, milliseconds. The policy is unchanged since the last apply (its loading is kept in the state directory's policy cache) except in the last row, where a comment edited into it each time makes it new. Floor (same run, the same way): \`node -e 0\`.`,
      '',
      '| what | floor: node -e 0 | palisade apply | vs floor | target |',
      '|---|---:|---:|---:|---|',
      `| element-only change | ${ms(cli.node)} | ${ms(cli.apply)} | ${ratio(cli.apply, cli.node)} | < 300 ms: ${cli.apply < 300 ? 'met' : 'not met'} |`,
      `| unchanged ruleset | ${ms(cli.node)} | ${ms(cli.unchanged)} | ${ratio(cli.unchanged, cli.node)} | |`,
      `| element-only change, policy text edited since the last apply | ${ms(cli.node)} | ${ms(cli.edited)} | ${ratio(cli.edited, cli.node)} | |`,
      '',
    ].join('\n');
  } finally {
    spawnSync('ip', ['netns', 'del', netns]);
    spawnSync('ip', ['netns', 'del', floorNetns]);
  }
}
