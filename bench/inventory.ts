/**
 * Issue 10/15: loading a large inventory (parse + validate every host, what `check`, `push` and every agent
 * start do first). JSON goes through JSON.parse, YAML through js-yaml (src/plain-yaml.ts); the baseline is the
 * positioned YAML parser every inventory went through before, on the same hosts written as YAML (a tab in a
 * comment sends the document there), in the same run. Each load runs in a child process
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
    const smallYaml = stringify(small, { aliasDuplicateObjects: false });
    writeFileSync(join(dir, 'small.yaml'), smallYaml);
    /* A form the fast reader leaves to the positioned parser (src/plain-yaml.ts): the same hosts, read as before. */
    writeFileSync(join(dir, 'positioned.yaml'), `${smallYaml}#\tread with positions\n`);
    const json = load(join(dir, 'big.json'));
    const jsonSmall = load(join(dir, 'small.json'));
    const yamlFast = load(join(dir, 'small.yaml'));
    const yaml = load(join(dir, 'positioned.yaml'));
    writeFileSync(join(dir, 'policy.yaml'), stringify(generatePolicy(200)));
    const check = load(join(dir, 'big.json'), join(dir, 'policy.yaml'));
    return [
      `## Inventory load (issue 10): ${hostCount.toLocaleString('en-US')} generated hosts, parse + validate`,
      '',
      '| document | hosts | CPU | wall | peak RSS | CPU per host |',
      '|---|---:|---:|---:|---:|---:|',
      row('JSON (JSON.parse)', json),
      row('JSON (JSON.parse)', jsonSmall),
      row('YAML (js-yaml)', yamlFast),
      row('YAML (positioned parser, baseline)', yaml),
      row('`check`: JSON load + lint, 200 rules', check),
      '',
      `CPU per host at ${baselineCount.toLocaleString('en-US')} hosts: JSON ${fmt(yaml.cpuS / yaml.hosts / (jsonSmall.cpuS / jsonSmall.hosts), 0)}x, YAML through js-yaml ${fmt(yaml.cpuS / yaml.hosts / (yamlFast.cpuS / yamlFast.hosts), 1)}x below the positioned YAML path. Target: ${hostCount.toLocaleString('en-US')} hosts load and \`check\` under 10 s and 1 GB.`,
      '',
    ].join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
