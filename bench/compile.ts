/**
 * Issue 2's benchmark: compile (and render to nft) every host of a generated 10,000-host fleet with 200
 * rules, against the AFW expansion of the same policy computed in the same run. Like with like (issue 15):
 * medians beside medians and means beside means; "whole fleet" and "cold" include loading the inventory
 * (parse + validate), which costs more than compiling. The fleet run renders each content-named set once
 * (SharedSets), against rendering every host's sets again, on the same compiled rulesets. Then an agent's
 * incremental update (a relevant host leaving and joining again, src/compile/incremental.ts) at 10,000 and
 * 100,000 hosts; and at 100,000 hosts, each in a process of its own (CPU, wall, peak RSS): what `push` does
 * before writing (load + validate every host) beside loading alone, and one host's compile through the CLI
 * beside the floor of reading the same file with JSON.parse.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { FleetCompiler } from '../src/compile/compile.ts';
import { rulesetSize } from '../src/compile/diff.ts';
import { parseInventoryDocument } from '../src/inventory/document.ts';
import type { Inventory } from '../src/inventory/types.ts';
import { parsePolicyFiles } from '../src/policy/load.ts';
import type { Policy } from '../src/policy/types.ts';
import { renderNft } from '../src/render/nft.ts';
import { SharedSets } from '../src/render/shared-sets.ts';
import type { Ruleset } from '../src/compile/ir.ts';
import { IncrementalRuleset } from '../src/compile/incremental.ts';
import type { Host } from '../src/inventory/types.ts';
import { afwExpand } from './afw-baseline.ts';
import { machineLoad, mean, median, percentile } from './stats.ts';
import { generateInventory, generatePolicy } from './fleet.ts';

const fmt = (n: number, digits = 1): string => n.toFixed(digits);

/** Parses and validates the generated documents (their generation is not timed). */
function load(hostCount: number, ruleCount: number): { inventory: Inventory; policy: Policy; loadMs: number } {
  const inventoryText = JSON.stringify(generateInventory(hostCount));
  const policyText = stringify(generatePolicy(ruleCount));
  const start = performance.now();
  const inventory = parseInventoryDocument(inventoryText, `generated-${hostCount}.json`);
  const { policy } = parsePolicyFiles([{ path: 'generated-policy.yaml', text: policyText }]);
  return { inventory, policy, loadMs: performance.now() - start };
}

const cpuMs = (fn: () => void): number => {
  const before = process.cpuUsage();
  fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
};

/**
 * An agent's incremental update: for hosts in one of its sets, the host leaving then joining again, each
 * `note` + `update` (CPU time); and an irrelevant host's change. Hosts are built in memory at the larger
 * size (loading is measured above and in the inventory section).
 */
function incremental(inventory: Inventory, policy: Policy): { relevantMs: number[]; irrelevantMs: number[]; elements: number } {
  const compiler = new FleetCompiler({ policy, inventory, names: new Map() });
  /* The agent with the most set elements among 200 hosts: its sets are the largest to change. */
  const size = (h: Host): number => compiler.compile(h.name).sets.reduce((n, s) => n + s.elements.length, 0);
  const self = inventory.hosts.slice(0, 200).reduce((a, b) => (size(b) > size(a) ? b : a));
  const ruleset = compiler.compile(self.name);
  const inSets = new Set(ruleset.sets.flatMap((s) => s.elements));
  const relevant = inventory.hosts.filter((h) => h !== self && h.addresses.v4.some((a) => inSets.has(a))).slice(0, 20);
  const irrelevant = inventory.hosts.filter((h) => h !== self && !h.addresses.v4.some((a) => inSets.has(a))).slice(0, 20);
  const state = new IncrementalRuleset(compiler, ruleset, self);
  const relevantMs: number[] = [];
  for (const host of relevant) {
    relevantMs.push(cpuMs(() => (state.note(host.name, () => ({ host: null, contested: false })), state.update())));
    relevantMs.push(cpuMs(() => (state.note(host.name, () => ({ host, contested: false })), state.update())));
  }
  const irrelevantMs = irrelevant.map((host) => cpuMs(() => state.note(host.name, () => ({ host, contested: false }))));
  return { relevantMs, irrelevantMs, elements: ruleset.sets.reduce((n, s) => n + s.elements.length, 0) };
}

/** The generated hosts as the validated inventory holds them, without validating (for the 100,000-host run). */
function inMemory(hostCount: number): Inventory {
  const hosts = generateInventory(hostCount).hosts.map((h): Host => ({ ...h, addresses: { v4: (h.interfaces['eth0'] ?? []).filter((a) => !a.includes(':')), v6: (h.interfaces['eth0'] ?? []).filter((a) => a.includes(':')) } }));
  return { hosts, source: 'generated', revision: 'generated', diagnostics: [] };
}

interface FleetRun {
  totalMs: number;
  perHostMs: number[];
  rules: number[];
  elements: number[];
  rulesets: Ruleset[];
}

/** Compiles and renders every host as a fleet run does: each content-named set rendered once, shared by its hosts. */
function compileFleet(inventory: Inventory, policy: Policy): FleetRun {
  const run: FleetRun = { totalMs: 0, perHostMs: [], rules: [], elements: [], rulesets: [] };
  const start = performance.now();
  const compiler = new FleetCompiler({ policy, inventory, names: new Map() });
  const shared = new SharedSets();
  for (const host of inventory.hosts) {
    const t = performance.now();
    const rs = compiler.compile(host.name);
    renderNft(rs, shared);
    run.perHostMs.push(performance.now() - t);
    const size = rulesetSize(rs);
    run.rules.push(size.rules);
    run.elements.push(size.elements);
    run.rulesets.push(rs);
  }
  run.totalMs = performance.now() - start;
  return run;
}

/**
 * Rendering the same compiled rulesets with each set rendered once per run, and with every host's sets rendered
 * again (before issue 15), alternating, CPU time of each pass; the scripts are compared byte for byte.
 */
function renderPasses(rulesets: readonly Ruleset[], rounds = 2): { sharedMs: number[]; everyHostMs: number[] } {
  const sharedMs: number[] = [];
  const everyHostMs: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const shared = new SharedSets();
    sharedMs.push(cpuMs(() => rulesets.forEach((rs) => renderNft(rs, shared))));
    everyHostMs.push(cpuMs(() => rulesets.forEach((rs) => renderNft(rs))));
  }
  const shared = new SharedSets();
  const step = Math.max(1, Math.floor(rulesets.length / 50));
  for (let i = 0; i < rulesets.length; i += step) {
    const rs = rulesets[i] as Ruleset;
    if (renderNft(rs, shared) !== renderNft(rs)) throw new Error(`host ${rs.host}: the shared sets render differently`);
  }
  return { sharedMs, everyHostMs };
}

interface Process {
  cpuS: number;
  wallS: number;
  rssMb: number;
}

/** A child process's own measurement (it prints JSON with cpuS, wallS, rssMb). */
function child(script: string, args: readonly string[]): Process & Record<string, unknown> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', new URL(script, import.meta.url).pathname, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out) as Process & Record<string, unknown>;
}

/** A whole process measured by GNU time (CPU = user + system); null where it is not installed. */
function timed(command: string, args: readonly string[]): Process | null {
  if (!existsSync('/usr/bin/time')) return null;
  const run = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', command, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${run.stderr}`);
  const [wall, user, system, rssKb] = (run.stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number) as [number, number, number, number];
  return { wallS: wall, cpuS: user + system, rssMb: rssKb / 1024 };
}

const FLOOR = "const t = require('fs').readFileSync(process.argv[1], 'utf8'); JSON.parse(t);";
/** Runs of the CLI's one-host compile at scale, each paired with a run of the floor. */
const CLI_RUNS = 5;

/** The median run by wall time (CPU and peak RSS are that run's). */
function medianRun(runs: Process[]): Process {
  return [...runs].sort((a, b) => a.wallS - b.wallS)[runs.length >> 1] as Process;
}

/** At 100,000 hosts: push's validation against loading alone, and the CLI's one-host compile against reading the file. */
function atScale(hostCount: number, ruleCount: number): { push: Process & Record<string, unknown>; load: Process & Record<string, unknown>; cli: Process | null; floor: Process | null; cliRuns: 'built' | 'tsx' } {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-bench-compile-'));
  try {
    const inventory = join(dir, 'fleet.json');
    const policy = join(dir, 'policy.yaml');
    writeFileSync(inventory, JSON.stringify(generateInventory(hostCount)));
    writeFileSync(policy, stringify(generatePolicy(ruleCount)));
    const load = child('./inventory-load.ts', [inventory]);
    const push = child('./push-validate.ts', [inventory, policy]);
    const bin = new URL('../bin/palisade.js', import.meta.url).pathname;
    const cliRuns: Process[] = [];
    const floorRuns: Process[] = [];
    for (let i = 0; i < CLI_RUNS; i++) {
      const cliRun = timed(process.execPath, [bin, 'compile', '--host', 'host-00042', '--inventory', inventory, '--policy', policy, '--no-resolve']);
      const floorRun = timed(process.execPath, ['-e', FLOOR, inventory]);
      if (cliRun === null || floorRun === null) break;
      cliRuns.push(cliRun);
      floorRuns.push(floorRun);
    }
    const [cli, floor] = cliRuns.length === 0 ? [null, null] : [medianRun(cliRuns), medianRun(floorRuns)];
    const { isFresh } = createRequire(import.meta.url)('../bin/fresh.js') as { isFresh: (artifact: string) => boolean };
    return { push, load, cli, floor, cliRuns: isFresh(new URL('../dist/cli/run.cjs', import.meta.url).pathname) ? 'built' : 'tsx' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One host alone, from nothing: index build, query evaluation, compile, render. What an agent pays. */
function coldHostMs(inventory: Inventory, policy: Policy, samples: number): number[] {
  const step = Math.max(1, Math.floor(inventory.hosts.length / samples));
  return Array.from({ length: samples }, (_, i) => {
    const host = inventory.hosts[i * step] as Inventory['hosts'][number];
    const t = performance.now();
    renderNft(new FleetCompiler({ policy, inventory, names: new Map() }).compile(host.name));
    return performance.now() - t;
  });
}

function afwRun(inventory: Inventory, policy: Policy, samples: number): { perHostMs: number[]; rules: number[] } {
  const step = Math.floor(inventory.hosts.length / samples);
  const rules: number[] = [];
  const perHostMs: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    rules.push(afwExpand(policy, inventory.hosts, inventory.hosts[i * step] as Inventory['hosts'][number]).length);
    perHostMs.push(performance.now() - t);
  }
  return { perHostMs, rules };
}

export function benchCompile(hostCount = 10_000, ruleCount = 200, largeCount = 100_000): string {
  const big = load(hostCount, ruleCount);
  const small = load(hostCount / 10, ruleCount);
  const fleet = compileFleet(big.inventory, big.policy);
  const passes = renderPasses(fleet.rulesets);
  fleet.rulesets.length = 0;
  const smallFleet = compileFleet(small.inventory, small.policy);
  const cold = coldHostMs(big.inventory, big.policy, 20);
  const afw = afwRun(big.inventory, big.policy, 40);
  const inc = incremental(big.inventory, big.policy);
  const large = incremental(inMemory(largeCount), big.policy);
  const loadDuring = machineLoad();
  const scale = atScale(largeCount, ruleCount);
  const fleetS = fleet.totalMs / 1000;
  const wholeS = (big.loadMs + fleet.totalMs) / 1000;
  const afwMean = mean(afw.perHostMs);
  const afwFleetS = (afwMean * hostCount) / 1000;
  const afwWholeS = afwFleetS + big.loadMs / 1000;
  const palMedian = median(fleet.perHostMs);
  const palMean = mean(fleet.perHostMs);
  const afwMedian = median(afw.perHostMs);
  const n = (v: number): string => v.toLocaleString('en-US');
  return [
    `## Compile (issue 2): ${n(hostCount)} hosts x ${ruleCount} rules`,
    '',
    '| measure | Palisade | AFW expansion (baseline) | ratio |',
    '|---|---|---|---|',
    `| inventory load (parse + validate, JSON) | ${fmt(big.loadMs / 1000, 2)} s | same | |`,
    `| whole fleet: load + compile + render | ${fmt(wholeS, 2)} s | ${fmt(afwWholeS, 0)} s (load + mean of ${afw.rules.length} hosts × ${n(hostCount)}) | ${fmt(afwWholeS / wholeS, 1)}x faster |`,
    `| whole fleet: compile + render only (sets rendered once per run) | ${fmt(fleetS, 2)} s | ${fmt(afwFleetS, 0)} s | ${fmt(afwFleetS / fleetS, 1)}x |`,
    `| one host in a fleet run, median | ${fmt(palMedian, 3)} ms | ${fmt(afwMedian, 1)} ms | ${fmt(afwMedian / palMedian, 0)}x |`,
    `| one host in a fleet run, mean | ${fmt(palMean, 3)} ms | ${fmt(afwMean, 1)} ms | ${fmt(afwMean / palMean, 0)}x |`,
    `| one host cold: inventory load + index + compile + render (median) | ${fmt((big.loadMs + median(cold)) / 1000, 2)} s (load ${fmt(big.loadMs / 1000, 2)} s + ${fmt(median(cold), 1)} ms) | | |`,
    `| rules per host, median (max) | ${median(fleet.rules)} (${Math.max(...fleet.rules)}) | ${median(afw.rules)} (${Math.max(...afw.rules)}) | ${fmt(median(afw.rules) / median(fleet.rules), 0)}x fewer |`,
    `| set elements per host, median (max) | ${median(fleet.elements)} (${Math.max(...fleet.elements)}) | - | |`,
    `| rules per host at ${n(hostCount / 10)} hosts, median (max) | ${median(smallFleet.rules)} (${Math.max(...smallFleet.rules)}) | | independent of fleet size |`,
    '',
    "AFW as it was: one rule per peer and address, the peer's IPv4 lan address only (AFW wrote `lanip`, no IPv6 rule), the search re-run per rule.",
    '',
    "**An agent's incremental update** (issue 15): for the agent with the most set elements of 200 hosts, a host its sets select leaves, then joins again (src/compile/incremental.ts: `note` + `update`, CPU time per change); a host they do not select changes (dropped).",
    '',
    '| fleet | set elements of the agent | relevant change, median (p99) | irrelevant change, median |',
    '|---:|---:|---:|---:|',
    `| ${n(hostCount)} | ${n(inc.elements)} | ${fmt(median(inc.relevantMs), 2)} ms (${fmt(percentile(inc.relevantMs, 99), 2)} ms) | ${fmt(median(inc.irrelevantMs), 3)} ms |`,
    `| ${n(largeCount)} (hosts built in memory) | ${n(large.elements)} | ${fmt(median(large.relevantMs), 2)} ms (${fmt(percentile(large.relevantMs, 99), 2)} ms) | ${fmt(median(large.irrelevantMs), 3)} ms |`,
    '',
    `Target: under 10 ms CPU at 100,000 hosts. Machine: ${loadDuring}.`,
    '',
    `**Sets rendered once per fleet run** (${n(hostCount)} hosts, the rulesets above, nft; CPU time of a rendering of every host, ${passes.sharedMs.length} alternating rounds): each set shared by its hosts ${fmt(median(passes.sharedMs) / 1000, 2)} s, every host's sets rendered again (before) ${fmt(median(passes.everyHostMs) / 1000, 2)} s: ${fmt(median(passes.everyHostMs) / median(passes.sharedMs), 1)}x; the same bytes.`,
    '',
    `**At ${n(largeCount)} hosts x ${ruleCount} rules**, each in a process of its own (CPU = user + system; peak RSS; the CLI and its floor: the median of ${CLI_RUNS} runs by wall time, alternating):`,
    '',
    '| measure | CPU | wall | peak RSS |',
    '|---|---:|---:|---:|',
    `| \`push\` validation: load + compile and guard every host (bench/push-validate.ts) | ${fmt(scale.push.cpuS, 1)} s | ${fmt(scale.push.wallS, 1)} s | ${fmt(scale.push.rssMb, 0)} MB |`,
    `| of which loading the inventory alone (bench/inventory-load.ts) | ${fmt(scale.load.cpuS, 1)} s | ${fmt(scale.load.wallS, 1)} s | ${fmt(scale.load.rssMb, 0)} MB |`,
    ...(scale.cli === null || scale.floor === null
      ? ['| one host through the CLI | (no /usr/bin/time) | | |']
      : [
          `| one host through the CLI: \`palisade compile --host\` (${scale.cliRuns === 'built' ? 'the built CLI' : 'sources through tsx: run npm run build'}) | ${fmt(scale.cli.cpuS, 2)} s | ${fmt(scale.cli.wallS, 2)} s | ${fmt(scale.cli.rssMb, 0)} MB |`,
          `| floor: node reading the file and JSON.parse alone | ${fmt(scale.floor.cpuS, 2)} s | ${fmt(scale.floor.wallS, 2)} s | ${fmt(scale.floor.rssMb, 0)} MB |`,
        ]),
    '',
    `Targets: push validation under 30 s and 2 GB: ${scale.push.wallS < 30 && scale.push.rssMb < 2048 ? 'met' : 'not met'}; one host through the CLI under 2 s${scale.cli === null || scale.floor === null ? '' : `: ${scale.cli.wallS < 2 ? 'met' : 'not met'} (${fmt(scale.cli.wallS / scale.floor.wallS, 1)}x the floor's wall time, ${fmt(scale.cli.cpuS / scale.floor.cpuS, 1)}x its CPU)`}. Machine: ${machineLoad()}.`,
    '',
  ].join('\n');
}
if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${benchCompile()}\n`);
