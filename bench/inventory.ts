/**
 * Issue 10/15: loading a large inventory (parse + validate every host, what `check`, `push` and every agent
 * start do first). JSON goes through JSON.parse; the baseline is the positioned YAML parser every inventory
 * went through before, on the same hosts written as YAML, in the same run. Each load runs in a child process
 * of its own so that its CPU time and peak RSS are its own (both include the ~0.1 s and ~100 MB of starting
 * node with tsx).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generateInventory, generatePolicy } from './fleet.ts';

interface Load {
  hosts: number;
  cpuS: number;
  wallS: number;
  rssMb: number;
}

const CHILD = new URL('./inventory-load.ts', import.meta.url).pathname;

function load(file: string, policy?: string): Load {
  const out = execFileSync(process.execPath, ['--import', 'tsx', CHILD, file, ...(policy === undefined ? [] : [policy])], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out) as Load;
}

const fmt = (n: number, digits = 1): string => n.toFixed(digits);
const row = (what: string, l: Load): string =>
  `| ${what} | ${l.hosts.toLocaleString('en-US')} | ${fmt(l.cpuS, 2)} s | ${fmt(l.wallS, 2)} s | ${fmt(l.rssMb, 0)} MB | ${fmt((l.cpuS * 1e6) / l.hosts, 0)} µs |`;

export function benchInventory(hostCount = 100_000, baselineCount = 10_000): string {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-bench-inventory-'));
  try {
    const big = generateInventory(hostCount);
    const small = generateInventory(baselineCount);
    writeFileSync(join(dir, 'big.json'), JSON.stringify(big));
    writeFileSync(join(dir, 'small.json'), JSON.stringify(small));
    writeFileSync(join(dir, 'small.yaml'), stringify(small, { aliasDuplicateObjects: false }));
    const json = load(join(dir, 'big.json'));
    const jsonSmall = load(join(dir, 'small.json'));
    const yaml = load(join(dir, 'small.yaml'));
    writeFileSync(join(dir, 'policy.yaml'), stringify(generatePolicy(200)));
    const check = load(join(dir, 'big.json'), join(dir, 'policy.yaml'));
    return [
      `## Inventory load (issue 10): ${hostCount.toLocaleString('en-US')} generated hosts, parse + validate`,
      '',
      '| document | hosts | CPU | wall | peak RSS | CPU per host |',
      '|---|---:|---:|---:|---:|---:|',
      row('JSON (JSON.parse)', json),
      row('JSON (JSON.parse)', jsonSmall),
      row('YAML (positioned parser, baseline)', yaml),
      row('`check`: JSON load + lint, 200 rules', check),
      '',
      `CPU per host: JSON ${fmt(yaml.cpuS / yaml.hosts / (jsonSmall.cpuS / jsonSmall.hosts), 0)}x below the YAML path at ${baselineCount.toLocaleString('en-US')} hosts. Target: ${hostCount.toLocaleString('en-US')} hosts load and \`check\` under 10 s and 1 GB.`,
      '',
    ].join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
