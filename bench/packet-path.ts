/**
 * Issue 15's packet-path benchmark: what the firewall costs every new connection. New TCP connections per second
 * from a client namespace to server namespaces (one veth pair each), one server per firewall, measured in
 * interleaved rounds: no firewall; the stateful floor (conntrack: established/related accepted, one accept rule,
 * drop); Palisade's ruleset compiled for the server, its source set holding 10,000 and 100,000 addresses, loaded by
 * the nft backend; the AFW way (10,000 and 50,000 iptables rules, one per address, the allowed source last: its
 * worst case, every other address of the fleet before it). The client and server are a small C program
 * (bench/packet/connrate.c) compiled with the machine's cc: one connection at a time, closed with a reset.
 * Reported as ratios to the floor (median of the rounds). Needs root and cc; skipped otherwise.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FleetCompiler } from '../src/compile/compile.ts';
import type { Host } from '../src/inventory/types.ts';
import { backendFor } from '../src/kernel/load.ts';
import { parsePolicyFiles } from '../src/policy/load.ts';
import { machineLoad, median } from './stats.ts';

const PORT = 5001;
const ROUNDS = 5;
const MS = 1000;
const SOURCE = new URL('./packet/connrate.c', import.meta.url).pathname;

interface Config {
  what: string;
  /** Loads the firewall into the server namespace. */
  load: (ns: string, client: string) => Promise<void>;
}

const run = (command: string, args: string[], input?: string): string => {
  const result = spawnSync(command, args, { encoding: 'utf8', input, maxBuffer: 1 << 26 });
  if (result.status !== 0) throw new Error(`${command} ${args.slice(0, 6).join(' ')} failed: ${result.stderr || result.error?.message}`);
  return result.stdout;
};
const inNs = (ns: string, command: string, args: string[], input?: string): string => run('ip', ['netns', 'exec', ns, command, ...args], input);

/** Addresses of the other hosts of the fleet: never the client's 10.77.0.0/16. */
const filler = (i: number): string => `10.${128 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

const FLOOR = `table inet floor {
  chain input {
    type filter hook input priority 0; policy drop;
    iif lo accept
    ct state established,related accept
    tcp dport ${PORT} accept
  }
}
`;

const POLICY = `settings: { input_drop: true, input_drop_log: false, output_drop: false, output_drop_log: false }
rules:
  Clients:
    on: roles:server
    direction: in
    protocol: tcp
    source: roles:client
    dport: ${PORT}
`;

const host = (name: string, roles: string[], address: string): Host => ({
  name,
  environment: 'bench',
  roles,
  tags: [],
  interfaces: { eth0: [address] },
  lan: 'eth0',
  users: {},
  attributes: {},
  addresses: { v4: [address], v6: [] },
});

/** Palisade's ruleset for the server: the fleet's other clients first, the one that connects last. */
async function palisade(ns: string, client: string, elements: number, server: string): Promise<void> {
  const hosts = [host('server', ['server'], server), ...Array.from({ length: elements - 1 }, (_, i) => host(`c${i}`, ['client'], filler(i))), host('client', ['client'], client)];
  const compiler = new FleetCompiler({ policy: parsePolicyFiles([{ path: 'bench.yaml', text: POLICY }]).policy, inventory: { hosts, source: 'bench', revision: 'bench', diagnostics: [] }, names: new Map() });
  const ruleset = compiler.compile('server');
  const largest = Math.max(...ruleset.sets.map((s) => s.elements.length));
  if (largest !== elements) throw new Error(`the source set holds ${largest} elements, not ${elements}`);
  await backendFor('nft', { netns: ns }).load(ruleset);
}

/** AFW's INPUT chain: a rule per address, the allowed client last. */
function afw(ns: string, client: string, rules: number): Promise<void> {
  const lines = ['*filter', ':INPUT DROP [0:0]', '-A INPUT -i lo -j ACCEPT', '-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT'];
  for (let i = 0; i < rules - 1; i++) lines.push(`-A INPUT -s ${filler(i)}/32 -p tcp -m tcp --dport ${PORT} -j ACCEPT`);
  lines.push(`-A INPUT -s ${client}/32 -p tcp -m tcp --dport ${PORT} -j ACCEPT`, 'COMMIT', '');
  inNs(ns, 'iptables-restore', [], lines.join('\n'));
  return Promise.resolve();
}

interface Result {
  what: string;
  rates: number[];
  failed: number;
  loadS: number;
}

export async function benchPacketPath(): Promise<string> {
  const title = '## Packet path (issue 15): new TCP connections per second through the firewall';
  if (process.getuid?.() !== 0) return `${title}\n\nskipped: needs root (network namespaces)\n`;
  if (spawnSync('cc', ['--version']).status !== 0) return `${title}\n\nskipped: no C compiler (cc)\n`;
  const dir = mkdtempSync(join(tmpdir(), 'palisade-bench-packet-'));
  const binary = join(dir, 'connrate');
  run('cc', ['-O2', '-o', binary, SOURCE]);
  const id = randomBytes(3).toString('hex');
  const clientNs = `pal-pc-${id}`;
  const configs: Config[] = [
    { what: 'no firewall', load: async () => undefined },
    { what: 'stateful floor (ct established + 1 accept rule)', load: async (ns) => void inNs(ns, 'nft', ['-f', '-'], FLOOR) },
    { what: 'Palisade, source set of 10,000', load: (ns, client) => palisade(ns, client, 10_000, client.replace(/\.1$/, '.2')) },
    { what: 'Palisade, source set of 100,000', load: (ns, client) => palisade(ns, client, 100_000, client.replace(/\.1$/, '.2')) },
    { what: 'AFW, 10,000 rules (allowed source last)', load: (ns, client) => afw(ns, client, 10_000) },
    { what: 'AFW, 50,000 rules (allowed source last)', load: (ns, client) => afw(ns, client, 50_000) },
  ];
  const servers: string[] = configs.map((_, i) => `pal-ps-${id}-${i}`);
  const processes: ChildProcess[] = [];
  const results: Result[] = configs.map((c) => ({ what: c.what, rates: [], failed: 0, loadS: 0 }));
  try {
    run('ip', ['netns', 'add', clientNs]);
    inNs(clientNs, 'ip', ['link', 'set', 'lo', 'up']);
    inNs(clientNs, 'sysctl', ['-qw', 'net.ipv4.ip_local_port_range=1024 65535']);
    for (const [i, ns] of servers.entries()) {
      run('ip', ['netns', 'add', ns]);
      run('ip', ['link', 'add', `pc${id}${i}`, 'netns', clientNs, 'type', 'veth', 'peer', 'name', `ps${id}${i}`, 'netns', ns]);
      inNs(clientNs, 'ip', ['addr', 'add', `10.77.${i}.1/24`, 'dev', `pc${id}${i}`]);
      inNs(clientNs, 'ip', ['link', 'set', `pc${id}${i}`, 'up']);
      inNs(ns, 'ip', ['addr', 'add', `10.77.${i}.2/24`, 'dev', `ps${id}${i}`]);
      inNs(ns, 'ip', ['link', 'set', `ps${id}${i}`, 'up']);
      inNs(ns, 'ip', ['link', 'set', 'lo', 'up']);
      const started = performance.now();
      await (configs[i] as Config).load(ns, `10.77.${i}.1`);
      (results[i] as Result).loadS = (performance.now() - started) / 1000;
      const server = spawn('ip', ['netns', 'exec', ns, binary, 'server', String(PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
      processes.push(server);
      await new Promise<void>((resolve, reject) => {
        server.stdout?.once('data', () => resolve());
        server.once('exit', (code) => reject(new Error(`the server in ${ns} exited (${code})`)));
      });
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, result] of results.entries()) {
        const [done, failed] = inNs(clientNs, binary, ['client', `10.77.${i}.2`, String(PORT), String(MS)]).trim().split(' ').map(Number) as [number, number];
        result.rates.push(done / (MS / 1000));
        result.failed += failed;
      }
    }
  } finally {
    for (const p of processes) p.kill('SIGKILL');
    for (const ns of [clientNs, ...servers]) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
  const floor = median((results[1] as Result).rates);
  const none = median((results[0] as Result).rates);
  const rows = results.map((r) => {
    const rate = median(r.rates);
    return `| ${r.what} | ${rate.toFixed(0)} | ${(rate / floor).toFixed(3)} | ${r.failed} | ${r.loadS.toFixed(1)} |`;
  });
  return [
    title,
    '',
    `One client connecting to one server at a time for ${MS / 1000} s per round, ${ROUNDS} rounds interleaved across the firewalls, median of the rounds;`,
    'each firewall in its own server namespace (input hook), the client reaches each over its own veth pair. Connections are closed with a',
    "reset (no TIME_WAIT). AFW's rules load through this machine's iptables-restore (" + run('iptables', ['-V']).trim() + ').',
    '',
    '| firewall | connections/s | vs floor | failed | load (s) |',
    '|---|---:|---:|---:|---:|',
    ...rows,
    '',
    `The floor is ${(floor / none).toFixed(3)}x of no firewall (conntrack's own cost). Machine: ${machineLoad()}.`,
    '',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${await benchPacketPath()}\n`);
