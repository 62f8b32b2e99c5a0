/**
 * A two-namespace lab for the apply tests: a host namespace (palisade applies here) and a client namespace,
 * joined by a veth pair; a policy and an inventory describing them; TCP servers and probes run with node
 * inside the namespaces. Everything is created per suite and deleted in after(), even on failure.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, skipUnlessRoot } from '../helpers/netns.ts';

export const skip = skipUnlessRoot;
export const BIN = join(import.meta.dirname, '../../bin/palisade.js');

export interface LabOptions {
  /** Extra web clients (their addresses are added to the client namespace too). */
  extraWebClients?: number;
  /** Ports the "Web to DB" rule opens. */
  ports?: number[];
  /** A raw rule appended to the policy (YAML lines under its name). */
  raw?: string;
}

export interface Lab {
  host: string;
  client: string;
  dir: string;
  stateDir: string;
  /** 10.231.N.1 on the host side. */
  hostIp: string;
  /** The client address of inventory host `client` (a web host). */
  webIp: string;
  /** A client-namespace address that is no inventory host. */
  strangerIp: string;
  /** Address of extra web client i (1-based), present in the client namespace whether or not in the inventory. */
  extraIp(i: number): string;
  /** Rewrites policy.yaml and inventory.yaml. */
  configure(options?: LabOptions): void;
  /** Source and target options for the CLI. */
  args(): string[];
  inHost(command: string, args: readonly string[], input?: string): string;
  inClient(command: string, args: readonly string[], input?: string): string;
  /** Starts TCP servers on the host namespace; stopped in after(). */
  serve(ports: number[]): Promise<void>;
  /** Whether a TCP connection from `from` (a client-namespace address) to the host's port opens within 1.5 s. */
  connects(from: string, port: number): Promise<boolean>;
}

/** Registers before/after hooks in the current suite and returns the lab they set up. */
export function useLab(options: LabOptions = {}): Lab {
  const tag = randomBytes(3).toString('hex');
  const subnet = randomInt(2, 250);
  const host = `pal-apply-${tag}-h`;
  const client = `pal-apply-${tag}-c`;
  const hostIp = `10.231.${subnet}.1`;
  const servers: ChildProcess[] = [];
  let dir = '';
  const lab: Lab = {
    host,
    client,
    get dir() {
      return dir;
    },
    get stateDir() {
      return join(dir, 'state');
    },
    hostIp,
    webIp: `10.231.${subnet}.2`,
    strangerIp: `10.231.${subnet}.200`,
    extraIp: (i) => `10.231.${subnet}.${10 + i}`,
    configure(o = options) {
      const ports = o.ports ?? [5432];
      const extra = Array.from({ length: o.extraWebClients ?? 0 }, (_, i) => i + 1);
      const webHost = (name: string, ip: string): string =>
        `  - name: ${name}\n    environment: test\n    roles: [web]\n    interfaces: { vc: [${ip}] }\n    lan: vc\n    users: { root: 0 }\n`;
      writeFileSync(
        join(dir, 'inventory.yaml'),
        `hosts:\n  - name: srv\n    environment: test\n    roles: [db]\n    interfaces: { vh: [${hostIp}] }\n    lan: vh\n    users: { root: 0 }\n` +
          webHost('client', lab.webIp) +
          extra.map((i) => webHost(`client-${i}`, lab.extraIp(i))).join(''),
      );
      writeFileSync(
        join(dir, 'policy.yaml'),
        `settings:\n  input_drop: true\n  output_drop: false\n  failsafe:\n    in: [{ protocol: tcp, dport: 22 }]\n    out: [{ protocol: udp, dport: 53 }]\n` +
          `rules:\n  Web to DB:\n    on: roles:db\n    direction: in\n    protocol: tcp\n    source: roles:web\n    dport: [${ports.join(', ')}]\n` +
          (o.raw === undefined ? '' : `raw:\n  Refused by the kernel:\n${o.raw}\n`),
      );
    },
    args: () => ['--policy', join(dir, 'policy.yaml'), '--inventory', join(dir, 'inventory.yaml'), '--no-resolve', '--state-dir', lab.stateDir, '--netns', host],
    inHost: (command, args, input) => run('ip', ['netns', 'exec', host, command, ...args], input),
    inClient: (command, args, input) => run('ip', ['netns', 'exec', client, command, ...args], input),
    async serve(ports) {
      const code = `const net=require('net');let n=0;for(const p of ${JSON.stringify(ports)})net.createServer(s=>s.end('ok')).listen(p,'0.0.0.0',()=>{if(++n===${ports.length})console.log('ready')});`;
      const child = spawn('ip', ['netns', 'exec', host, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      servers.push(child);
      await new Promise<void>((resolve, reject) => {
        child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
        child.on('exit', (c) => reject(new Error(`server exited ${c}`)));
      });
    },
    connects(from, port) {
      const code = `const s=require('net').connect({host:'${hostIp}',port:${port},localAddress:'${from}',timeout:1500});s.on('data',()=>{console.log('yes');process.exit(0)});s.on('timeout',()=>{console.log('no');process.exit(0)});s.on('error',()=>{console.log('no');process.exit(0)});`;
      return new Promise((resolve) => {
        const child = spawn('ip', ['netns', 'exec', client, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
        child.on('close', () => resolve(out.includes('yes')));
      });
    },
  };

  before(() => {
    if (skip !== false) return;
    dir = mkdtempSync(join(tmpdir(), 'pal-apply-'));
    run('ip', ['netns', 'add', host]);
    run('ip', ['netns', 'add', client]);
    run('ip', ['link', 'add', 'vh', 'netns', host, 'type', 'veth', 'peer', 'name', 'vc', 'netns', client]);
    lab.inHost('ip', ['addr', 'add', `${hostIp}/24`, 'dev', 'vh']);
    for (const ip of [lab.webIp, lab.strangerIp, lab.extraIp(1), lab.extraIp(2)]) lab.inClient('ip', ['addr', 'add', `${ip}/24`, 'dev', 'vc']);
    for (const ns of [host, client]) {
      run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
      run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', ns === host ? 'vh' : 'vc', 'up']);
    }
    delete process.env.SSH_CONNECTION;
    lab.configure(options);
  });

  after(() => {
    for (const s of servers) s.kill('SIGKILL');
    if (skip !== false) return;
    spawnSync('ip', ['netns', 'del', host]);
    spawnSync('ip', ['netns', 'del', client]);
    rmSync(dir, { recursive: true, force: true });
  });

  return lab;
}

/** Runs `node bin/palisade.js` as a child (for tests that kill it or run two at once). */
export function spawnCli(args: readonly string[]): ChildProcess {
  const env = { ...process.env };
  delete env.SSH_CONNECTION;
  return spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
}

export function exited(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until fn is true or timeoutMs passes. */
export async function eventually(fn: () => boolean | Promise<boolean>, timeoutMs: number, what: string | (() => string)): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await delay(200);
  }
  assert.fail(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
}
