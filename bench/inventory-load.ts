/** Child of bench/inventory.ts: loads one inventory file and prints its host count, CPU time, wall time and peak RSS. */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseInventoryDocument } from '../src/inventory/document.ts';

const file = process.argv[2] as string;
const before = process.cpuUsage();
const start = performance.now();
const inventory = parseInventoryDocument(readFileSync(file, 'utf8'), file);
const wallS = (performance.now() - start) / 1000;
const cpu = process.cpuUsage(before);
process.stdout.write(
  JSON.stringify({ hosts: inventory.hosts.length, cpuS: (cpu.user + cpu.system) / 1e6, wallS, rssMb: process.resourceUsage().maxRSS / 1024 }),
);
