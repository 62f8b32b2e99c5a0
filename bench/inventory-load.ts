/**
 * Child of bench/inventory.ts: loads one inventory file, its revision and warnings included (with a policy file: runs
 * `check` on both, as the command does: load the workspace, then lint) and prints its host count, CPU time, wall
 * time and peak RSS.
 */
import './palisade-v8.ts';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { checkWorkspace } from '../src/app/check.ts';
import { loadWorkspace } from '../src/app/workspace.ts';
import { parseInventoryDocument } from '../src/inventory/document.ts';

const [file, policy] = process.argv.slice(2) as [string, string | undefined];
const before = process.cpuUsage();
const start = performance.now();
let hosts: number;
let facts = {};
if (policy === undefined) {
  /* The revision and the warnings across hosts are computed when first read: read here, as push does. */
  const { hosts: loaded, revision, diagnostics } = parseInventoryDocument(readFileSync(file, 'utf8'), file);
  hosts = loaded.length;
  facts = { revision, warnings: diagnostics.length };
} else {
  const ws = await loadWorkspace({ policy: [policy], inventory: file, resolve: false });
  checkWorkspace(ws);
  hosts = ws.inventory.hosts.length;
}
const wallS = (performance.now() - start) / 1000;
const cpu = process.cpuUsage(before);
process.stdout.write(JSON.stringify({ hosts, ...facts, cpuS: (cpu.user + cpu.system) / 1e6, wallS, rssMb: process.resourceUsage().maxRSS / 1024 }));
