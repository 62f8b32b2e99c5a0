/**
 * Issue 2's benchmark: compile (and render to nft) every host of a generated 10,000-host fleet with 200
 * rules, against the AFW expansion of the same policy computed in the same run.
 */
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { FleetCompiler } from '../src/compile/compile.ts';
import { rulesetSize } from '../src/compile/diff.ts';
import { parseInventoryDocument } from '../src/inventory/document.ts';
import type { Inventory } from '../src/inventory/types.ts';
import { parsePolicyFiles } from '../src/policy/load.ts';
import type { Policy } from '../src/policy/types.ts';
import { renderNft } from '../src/render/nft.ts';
import { afwExpand } from './afw-baseline.ts';
import { median } from './stats.ts';
import { generateInventory, generatePolicy } from './fleet.ts';

const fmt = (n: number, digits = 1): string => n.toFixed(digits);

function load(hostCount: number, ruleCount: number): { inventory: Inventory; policy: Policy; loadMs: number } {
  const start = performance.now();
  const inventory = parseInventoryDocument(JSON.stringify(generateInventory(hostCount)), `generated-${hostCount}.json`);
  const { policy } = parsePolicyFiles([{ path: 'generated-policy.yaml', text: stringify(generatePolicy(ruleCount)) }]);
  return { inventory, policy, loadMs: performance.now() - start };
}

interface FleetRun {
  totalMs: number;
  perHostMs: number[];
  rules: number[];
  elements: number[];
}

function compileFleet(inventory: Inventory, policy: Policy): FleetRun {
  const run: FleetRun = { totalMs: 0, perHostMs: [], rules: [], elements: [] };
  const start = performance.now();
  const compiler = new FleetCompiler({ policy, inventory, names: new Map() });
  for (const host of inventory.hosts) {
    const t = performance.now();
    const rs = compiler.compile(host.name);
    renderNft(rs);
    run.perHostMs.push(performance.now() - t);
    const size = rulesetSize(rs);
    run.rules.push(size.rules);
    run.elements.push(size.elements);
  }
  run.totalMs = performance.now() - start;
  return run;
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

function afwRun(inventory: Inventory, policy: Policy, samples: number): { perHostMs: number; rules: number[] } {
  const step = Math.floor(inventory.hosts.length / samples);
  const rules: number[] = [];
  const start = performance.now();
  for (let i = 0; i < samples; i++) rules.push(afwExpand(policy, inventory.hosts, inventory.hosts[i * step] as Inventory['hosts'][number]).length);
  return { perHostMs: (performance.now() - start) / samples, rules };
}

export function benchCompile(hostCount = 10_000, ruleCount = 200): string {
  const big = load(hostCount, ruleCount);
  const small = load(hostCount / 10, ruleCount);
  const fleet = compileFleet(big.inventory, big.policy);
  const smallFleet = compileFleet(small.inventory, small.policy);
  const cold = coldHostMs(big.inventory, big.policy, 20);
  const afw = afwRun(big.inventory, big.policy, 40);
  const hostsPerSecond = hostCount / (fleet.totalMs / 1000);
  const afwHostsPerSecond = 1000 / afw.perHostMs;
  const afwFleetSeconds = (afw.perHostMs * hostCount) / 1000;
  return [
    `## Compile (issue 2): ${hostCount} hosts x ${ruleCount} rules (load ${fmt(big.loadMs / 1000, 2)} s)`,
    '',
    '| measure | Palisade | AFW expansion (baseline) | ratio |',
    '|---|---|---|---|',
    `| whole fleet, compile + render | ${fmt(fleet.totalMs / 1000, 2)} s | ${fmt(afwFleetSeconds, 0)} s (from ${afw.rules.length} hosts) | ${fmt(afwFleetSeconds / (fleet.totalMs / 1000), 0)}x faster |`,
    `| hosts/second | ${fmt(hostsPerSecond, 0)} | ${fmt(afwHostsPerSecond, 1)} | ${fmt(hostsPerSecond / afwHostsPerSecond, 0)}x |`,
    `| one host in a fleet run, median | ${fmt(median(fleet.perHostMs), 3)} ms | ${fmt(afw.perHostMs, 1)} ms | ${fmt(afw.perHostMs / median(fleet.perHostMs), 0)}x |`,
    `| one host from nothing (index + compile + render), median | ${fmt(median(cold), 1)} ms | | |`,
    `| rules per host, median (max) | ${median(fleet.rules)} (${Math.max(...fleet.rules)}) | ${median(afw.rules)} (${Math.max(...afw.rules)}) | ${fmt(median(afw.rules) / median(fleet.rules), 0)}x fewer |`,
    `| set elements per host, median (max) | ${median(fleet.elements)} (${Math.max(...fleet.elements)}) | - | |`,
    `| rules per host at ${hostCount / 10} hosts, median (max) | ${median(smallFleet.rules)} (${Math.max(...smallFleet.rules)}) | | independent of fleet size |`,
    '',
  ].join('\n');
}
