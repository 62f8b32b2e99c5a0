/**
 * The audit e2e's fleet in network namespaces: one namespace per host of test/audit/fixtures/fleet-inventory.yaml
 * (its eth0 with the inventory address), bridged in one more namespace; TCP servers, ulogd2 and probes
 * run inside them. Every namespace and process is created per suite and removed in after(), even on failure.
 */
import { after, before } from 'node:test';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseInventoryDocument } from '../../src/inventory/document.ts';
import type { Host } from '../../src/inventory/types.ts';
import { run } from '../helpers/netns.ts';

export const FIXTURES = join(import.meta.dirname, '../audit/fixtures');

export interface Fleet {
  hosts: Host[];
  dir: string;
  netns(host: string): string;
  address(host: string): string;
  /** Loads an nft script into the host's namespace (replacing palisade's table). */
  load(host: string, script: string): void;
  /** Starts ulogd2 on NFLOG group 7 in every namespace; returns the JSON file of each host. */
  startUlogd(): Promise<Map<string, string>>;
  /** Stops ulogd2 (its JSON files are then complete). */
  stopUlogd(): void;
  /** TCP servers on `ports` in every namespace. */
  serve(ports: number[]): Promise<void>;
  /** Whether a TCP connection from `src` to `dst`:`port` opens (and gets a reply) within 1 s. */
  connects(src: string, dst: string, port: number): Promise<boolean>;
}

const SERVER = `for (const p of JSON.parse(process.argv[1])) require('net').createServer((s) => s.end('ok')).listen(p, '0.0.0.0');`;
const CLIENT = `const s = require('net').connect({ host: process.argv[1], port: Number(process.argv[2]), timeout: 1000 });
s.on('data', () => { process.stdout.write('ok'); s.destroy(); });
s.on('timeout', () => { process.stdout.write('timeout'); s.destroy(); });
s.on('error', (e) => process.stdout.write(e.code));`;

export function useFleet(): Fleet {
  const tag = randomBytes(3).toString('hex');
  const inventory = parseInventoryDocument(readFileSync(join(FIXTURES, 'fleet-inventory.yaml'), 'utf8'), 'fleet-inventory.yaml');
  const bridge = `pa${tag}-br`;
  const names = new Map(inventory.hosts.map((h, i) => [h.name, `pa${tag}-${i}`]));
  const processes: ChildProcess[] = [];
  const ulogd: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'pal-audit-e2e-'));
  const netns = (host: string): string => names.get(host) as string;
  const address = (host: string): string => inventory.hosts.find((h) => h.name === host)?.addresses.v4[0] as string;
  const inNs = (host: string, command: string, args: readonly string[], input?: string): string => run('ip', ['netns', 'exec', netns(host), command, ...args], input);

  before(() => {
    run('ip', ['netns', 'add', bridge]);
    run('ip', ['-n', bridge, 'link', 'add', 'br0', 'type', 'bridge']);
    run('ip', ['-n', bridge, 'link', 'set', 'br0', 'up']);
    inventory.hosts.forEach((host, i) => {
      const ns = netns(host.name);
      run('ip', ['netns', 'add', ns]);
      run('ip', ['-n', bridge, 'link', 'add', `p${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      run('ip', ['-n', bridge, 'link', 'set', `p${i}`, 'master', 'br0', 'up']);
      run('ip', ['-n', ns, 'addr', 'add', `${address(host.name)}/24`, 'dev', 'eth0']);
      run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    });
  });

  after(() => {
    for (const child of [...processes, ...ulogd]) child.kill('SIGKILL');
    for (const ns of [...names.values(), bridge]) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  });

  const spawnIn = (host: string, command: string, args: string[], into: ChildProcess[]): ChildProcess => {
    const child = spawn('ip', ['netns', 'exec', netns(host), command, ...args], { stdio: 'ignore' });
    into.push(child);
    return child;
  };

  return {
    hosts: inventory.hosts,
    dir,
    netns,
    address,
    load: (host, script) => inNs(host, 'nft', ['-f', '-'], `table inet palisade\ndelete table inet palisade\n${script}`),
    async startUlogd() {
      const template = readFileSync('examples/audit/ulogd.conf', 'utf8');
      const files = new Map<string, string>();
      for (const host of inventory.hosts) {
        const base = join(dir, `ulogd-${host.name}`);
        writeFileSync(`${base}.conf`, template.replaceAll('/var/log/ulog/palisade-audit', base));
        spawnIn(host.name, 'ulogd', ['-c', `${base}.conf`], ulogd);
        files.set(host.name, `${base}.json`);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      return files;
    },
    stopUlogd() {
      for (const child of ulogd.splice(0)) child.kill('SIGTERM');
    },
    async serve(ports) {
      for (const host of inventory.hosts) spawnIn(host.name, process.execPath, ['-e', SERVER, JSON.stringify(ports)], processes);
      await new Promise((resolve) => setTimeout(resolve, 500));
    },
    connects(src, dst, port) {
      return new Promise((resolve) => {
        const child = spawn('ip', ['netns', 'exec', netns(src), process.execPath, '-e', CLIENT, address(dst), String(port)], { stdio: ['ignore', 'pipe', 'ignore'] });
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
        child.on('close', () => resolve(out === 'ok'));
      });
    },
  };
}
