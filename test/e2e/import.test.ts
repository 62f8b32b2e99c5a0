/**
 * Kernel proof of `palisade import`: the captured iptables-save ruleset loaded with iptables-restore in one
 * namespace, the imported policy compiled by palisade and loaded with nft in another, and real TCP
 * connections from a peer namespace (from addresses the rules name and from a stranger) to both: the same
 * verdict (accepted, refused, silently dropped) on every probe except the flows `import --verify` lists as
 * differences, where the kernel does what verify said.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseIptablesSave } from '../../src/import/iptables-save.ts';
import { verifyImport } from '../../src/import/verify.ts';
import { writeImportedPolicy } from '../../src/import/write.ts';
import { parsePolicyFiles } from '../../src/policy/load.ts';
import { runCli } from '../helpers/cli.ts';
import { run, skipUnlessRoot } from '../helpers/netns.ts';

const skip = skipUnlessRoot;
const FIXTURE = join(import.meta.dirname, '../import/fixtures/iptables-save.txt');
const PORTS = [22, 25, 80, 443, 5432, 8080, 9100];
/** Peer source addresses: the office, the monitoring network (inside 10/8), 10/8 alone, the dropped address, a stranger. */
const SOURCES = ['203.0.113.9', '10.9.0.5', '10.1.1.1', '198.51.100.7', '192.0.2.50'];
const HOST = 'imported-1';

type Verdict = 'accept' | 'reject' | 'drop';

describe('import: the kernel gives the imported policy the same verdicts as the original iptables ruleset', { skip }, () => {
  const tag = randomBytes(3).toString('hex');
  const net = randomInt(2, 250);
  const ns = { orig: `pal-imp-${tag}-o`, pal: `pal-imp-${tag}-p`, peer: `pal-imp-${tag}-c` };
  const target = { orig: `10.232.${net}.1`, pal: `10.233.${net}.1` };
  const servers: ChildProcess[] = [];
  let dir = '';
  const inNs = (name: string, command: string, args: readonly string[], input?: string): string => run('ip', ['netns', 'exec', name, command, ...args], input);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pal-import-'));
    for (const name of Object.values(ns)) run('ip', ['netns', 'add', name]);
    run('ip', ['link', 'add', 'vo', 'netns', ns.orig, 'type', 'veth', 'peer', 'name', 'co', 'netns', ns.peer]);
    run('ip', ['link', 'add', 'vp', 'netns', ns.pal, 'type', 'veth', 'peer', 'name', 'cp', 'netns', ns.peer]);
    inNs(ns.orig, 'ip', ['addr', 'add', `${target.orig}/24`, 'dev', 'vo']);
    inNs(ns.pal, 'ip', ['addr', 'add', `${target.pal}/24`, 'dev', 'vp']);
    inNs(ns.peer, 'ip', ['addr', 'add', `10.232.${net}.2/24`, 'dev', 'co']);
    inNs(ns.peer, 'ip', ['addr', 'add', `10.233.${net}.2/24`, 'dev', 'cp']);
    for (const source of SOURCES) inNs(ns.peer, 'ip', ['addr', 'add', `${source}/32`, 'dev', 'lo']);
    for (const [name, links] of [[ns.orig, ['vo']], [ns.pal, ['vp']], [ns.peer, ['co', 'cp']]] as const) {
      for (const link of ['lo', ...links]) inNs(name, 'ip', ['link', 'set', link, 'up']);
    }
    /* The targets answer the peer's extra addresses over their one link. */
    inNs(ns.orig, 'ip', ['route', 'add', 'default', 'dev', 'vo']);
    inNs(ns.pal, 'ip', ['route', 'add', 'default', 'dev', 'vp']);
    for (const name of [ns.orig, ns.pal]) {
      const code = `const net=require('net');let n=0;for(const p of ${JSON.stringify(PORTS)})net.createServer(s=>s.end('ok')).listen(p,'0.0.0.0',()=>{if(++n===${PORTS.length})console.log('ready')});`;
      const child = spawn('ip', ['netns', 'exec', name, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      servers.push(child);
      await new Promise<void>((resolve, reject) => {
        child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        child.on('exit', (c) => reject(new Error(`server exited ${c}`)));
      });
    }
  });

  after(() => {
    for (const s of servers) s.kill('SIGKILL');
    for (const name of Object.values(ns)) spawnSync('ip', ['netns', 'del', name]);
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  /** Every (source, port) to one target at once: accepted, refused (reset) or silently dropped (no answer in 2 s). */
  function probe(to: string): Promise<Map<string, Verdict>> {
    const cases = SOURCES.flatMap((from) => PORTS.map((port) => ({ from, port })));
    const code = `const net=require('net');const cases=${JSON.stringify(cases)};Promise.all(cases.map(c=>new Promise(r=>{const s=net.connect({host:'${to}',port:c.port,localAddress:c.from,timeout:2000});s.on('data',()=>{s.destroy();r('accept')});s.on('timeout',()=>{s.destroy();r('drop')});s.on('error',e=>r(e.code==='ECONNREFUSED'?'reject':'drop:'+e.code))}))).then(v=>console.log(JSON.stringify(v)));`;
    return new Promise((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', ns.peer, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      child.on('close', (c) => {
        if (c !== 0) return reject(new Error(`probe exited ${c}`));
        const verdicts = JSON.parse(out) as Verdict[];
        resolve(new Map(cases.map((c, i) => [`${c.from} -> ${c.port}`, verdicts[i] as Verdict])));
      });
    });
  }

  it('loads both, probes both, and differs only where verify says', async () => {
    inNs(ns.orig, 'iptables-restore', [FIXTURE]);
    const policyFile = join(dir, 'imported.yaml');
    const imported = await runCli(['import', '--from', 'iptables-save', FIXTURE, '--host', HOST, '--out', policyFile]);
    assert.equal(imported.code, 0, imported.stderr);
    writeFileSync(join(dir, 'inventory.yaml'), `hosts:\n  - name: ${HOST}\n    interfaces: { vp: [${target.pal}] }\n    users: { www-data: 33 }\n`);
    const compiled = await runCli(['compile', '--host', HOST, '--policy', policyFile, '--inventory', join(dir, 'inventory.yaml'), '--no-resolve']);
    assert.equal(compiled.code, 0, compiled.stderr);
    inNs(ns.pal, 'nft', ['-f', '-'], compiled.stdout);

    const [original, palisade] = await Promise.all([probe(target.orig), probe(target.pal)]);
    /* What verify predicts for these flows (the failsafe accepts SSH that the original refuses or drops). */
    const parsed = parseIptablesSave(readFileSync(FIXTURE, 'utf8'), { file: 'iptables-save.txt', users: new Map([[33, 'www-data']]) });
    const { policy } = parsePolicyFiles([{ path: 'imported.yaml', text: writeImportedPolicy(parsed, { host: HOST }).text }]);
    const report = verifyImport(parsed, policy, HOST);
    const predicted = new Set(report.differences.flatMap((d) => d.flows.filter((f) => f.direction === 'in' && f.protocol === 'tcp').map((f) => `${f.peer}:${f.dport}`)));

    const differing: string[] = [];
    for (const [flow, verdict] of original) {
      const other = palisade.get(flow);
      if (other !== verdict) differing.push(`${flow}: iptables ${verdict}, palisade ${other}`);
    }
    /* Sanity: the original really filters (some accepted, some refused, the dropped address dropped). */
    assert.equal(original.get('203.0.113.9 -> 22'), 'accept');
    assert.equal(original.get('192.0.2.50 -> 22'), 'reject');
    assert.equal(original.get('198.51.100.7 -> 80'), 'accept');
    assert.equal(original.get('198.51.100.7 -> 5432'), 'drop');
    assert.equal(original.get('10.9.0.5 -> 9100'), 'accept');
    assert.equal(original.get('10.1.1.1 -> 9100'), 'reject');
    assert.equal(original.get('10.1.1.1 -> 5432'), 'accept');
    assert.deepEqual(differing.sort(), ['10.1.1.1 -> 22: iptables reject, palisade accept', '10.9.0.5 -> 22: iptables reject, palisade accept', '192.0.2.50 -> 22: iptables reject, palisade accept', '198.51.100.7 -> 22: iptables drop, palisade accept']);
    /* verify named the same cause: SSH accepted by the failsafe, from the dropped address and from every other source. */
    assert.ok(predicted.has('198.51.100.7:22'), [...predicted].join(' '));
    assert.ok([...predicted].every((p) => p.endsWith(':22')), [...predicted].join(' '));
  });
});
