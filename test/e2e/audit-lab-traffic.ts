/**
 * Real traffic for the audit e2e on the shop lab (audit-lab.test.ts): TCP listeners inside lab namespaces,
 * and TCP connections from a namespace as a given uid (ulogd2 is the lab's own: `palisade lab audit`). Every process started here is tracked,
 * so the test's after() can kill exactly those (and only those) whatever happened.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** One listener process: a TCP server answering `ok` on every port given, on every v4 address. */
const SERVER = `const net = require('net');
for (const p of JSON.parse(process.argv[1])) net.createServer((s) => { s.on('error', () => {}); s.end('ok'); }).listen({ port: p, host: '0.0.0.0' });
setTimeout(() => process.stdout.write('listening\\n'), 100);`;

/** Prints `ok` when the server answered, `timeout` after 1 s, or the error code (EPERM: the local output chain dropped it). */
const CLIENT = `const s = require('net').connect({ host: process.argv[1], port: Number(process.argv[2]), timeout: 1000 });
s.on('data', () => { process.stdout.write('ok'); s.destroy(); });
s.on('timeout', () => { process.stdout.write('timeout'); s.destroy(); });
s.on('error', (e) => process.stdout.write(e.code ?? e.message));`;

export class LabTraffic {
  private readonly listeners: ChildProcess[] = [];

  /** A listener on `ports` in each namespace; resolves once every one is listening. */
  async serve(namespaces: readonly string[], ports: readonly number[]): Promise<void> {
    await Promise.all(
      namespaces.map(
        (ns) =>
          new Promise<void>((resolve, reject) => {
            const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', SERVER, JSON.stringify(ports)], { stdio: ['ignore', 'pipe', 'pipe'] });
            this.listeners.push(child);
            let err = '';
            child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
            child.stdout?.setEncoding('utf8').on('data', (d: string) => d.includes('listening') && resolve());
            child.on('exit', (code) => reject(new Error(`listener in ${ns} exited ${code}: ${err}`)));
          }),
      ),
    );
  }

  async stopListeners(): Promise<void> {
    await Promise.all(this.listeners.splice(0).map((child) => stop(child, 'SIGKILL')));
  }

  /** Kills whatever is still running (for after()). */
  async stopAll(): Promise<void> {
    await Promise.all(this.listeners.splice(0).map((child) => stop(child, 'SIGKILL')));
  }
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** A TCP connection from `namespace` to address:port, as `uid` (setpriv) or root (null): `ok`, `timeout` or an error code. */
export function connect(namespace: string, uid: number | null, address: string, port: number): Promise<string> {
  const as = uid === null ? [] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'];
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', namespace, ...as, process.execPath, '-e', CLIENT, address, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('close', () => resolve(out === '' ? `no output: ${err.trim()}` : out));
  });
}
