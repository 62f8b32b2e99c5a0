/**
 * Child of bench/compile.ts: what `push` does before it writes, on files: load the inventory (parse + validate
 * every host) and the policy, then validate the fleet (every host compiled and guarded, src/app/push.ts
 * validateFleet). Prints the host count, guard problems, CPU time, wall time and peak RSS of this process.
 */
import './palisade-v8.ts';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { validateFleet } from '../src/app/push.ts';
import { parseInventoryDocument } from '../src/inventory/document.ts';
import { parsePolicyFiles } from '../src/policy/load.ts';

const [inventoryFile, policyFile] = process.argv.slice(2) as [string, string];
const before = process.cpuUsage();
const start = performance.now();
const inventory = parseInventoryDocument(readFileSync(inventoryFile, 'utf8'), inventoryFile);
const { policy } = parsePolicyFiles([{ path: policyFile, text: readFileSync(policyFile, 'utf8') }]);
const problems = validateFleet({ policy, inventory, names: new Map() }).length;
const wallS = (performance.now() - start) / 1000;
const cpu = process.cpuUsage(before);
process.stdout.write(JSON.stringify({ hosts: inventory.hosts.length, problems, cpuS: (cpu.user + cpu.system) / 1e6, wallS, rssMb: process.resourceUsage().maxRSS / 1024 }));
