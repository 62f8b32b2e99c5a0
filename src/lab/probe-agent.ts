/**
 * The probe agent: one small process inside a lab namespace, spawned as
 * `ip netns exec NS palisade __probe-agent [--uid N]`, speaking JSON lines over stdio. It opens
 * TCP and UDP listeners (UDP ones echo) and makes connections and pings, as root or, with `--uid`, as that
 * uid (dropped at start, so every socket it opens is owned by the uid `meta skuid` / `--uid-owner` sees).
 * It exits when its stdin closes.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { createInterface } from 'node:readline';

export type AgentRequest =
  | { id: number; op: 'listen'; protocol: 'tcp' | 'udp'; address: string; port: number }
  | {
      id: number;
      op: 'connect';
      protocol: 'tcp' | 'udp' | 'icmp' | 'icmpv6';
      address: string;
      port: number | null;
      localAddress: string;
      localPort: number | null;
      timeoutMs: number;
    };

/**
 * passed: connected / echoed / answered; refused: a TCP reset or ICMP port unreachable; unreachable: an ICMP
 * unreachable of another code (a reject's administratively prohibited); timeout: no answer (a drop on the way);
 * blocked: the local kernel refused to send (an output drop).
 */
export type Outcome = 'passed' | 'timeout' | 'blocked' | 'refused' | 'unreachable' | 'error';

export type AgentReply = { id: number; ok: true } | { id: number; ok: false; error: string } | { id: number; outcome: Outcome; detail: string };

const PAYLOAD = Buffer.from('palisade-probe');
const servers: Array<net.Server | dgram.Socket> = [];

/** EPERM is netfilter's drop of a local packet; ICMP errors arrive as ECONNREFUSED, EHOSTUNREACH (v4 prohibited), EACCES (v6 prohibited). */
function outcomeOfError(cause: NodeJS.ErrnoException): Outcome {
  if (cause.code === 'EPERM') return 'blocked';
  if (cause.code === 'ECONNREFUSED') return 'refused';
  if (cause.code === 'EHOSTUNREACH' || cause.code === 'ENETUNREACH' || cause.code === 'EACCES') return 'unreachable';
  return 'error';
}

function listen(request: Extract<AgentRequest, { op: 'listen' }>): Promise<void> {
  return new Promise((resolve, reject) => {
    if (request.protocol === 'tcp') {
      const server = net.createServer((socket) => {
        socket.on('error', () => undefined);
        socket.end();
      });
      server.once('error', reject);
      server.listen({ host: request.address, port: request.port, exclusive: true }, () => resolve());
      servers.push(server);
    } else {
      const socket = dgram.createSocket({ type: request.address.includes(':') ? 'udp6' : 'udp4' });
      socket.on('message', (message, peer) => socket.send(message, peer.port, peer.address));
      socket.once('error', reject);
      socket.bind({ address: request.address, port: request.port, exclusive: true }, () => resolve());
      servers.push(socket);
    }
  });
}

function connectTcp(r: Extract<AgentRequest, { op: 'connect' }>, done: (o: Outcome, detail: string) => void): () => void {
  const socket = net.connect({ host: r.address, port: r.port as number, localAddress: r.localAddress, ...(r.localPort === null ? {} : { localPort: r.localPort }) });
  socket.once('connect', () => done('passed', 'connected'));
  /* Every error is heard (done takes the first): one after the verdict, a reset's own, must not end the agent. */
  socket.on('error', (cause: NodeJS.ErrnoException) => done(outcomeOfError(cause), cause.code ?? cause.message));
  /* A reset, not a FIN: the probe leaves no TIME_WAIT behind, so a probe from the same source port can follow at once. */
  return () => (socket.readyState === 'open' ? socket.resetAndDestroy() : socket.destroy());
}

function connectUdp(r: Extract<AgentRequest, { op: 'connect' }>, done: (o: Outcome, detail: string) => void): () => void {
  const socket = dgram.createSocket({ type: r.address.includes(':') ? 'udp6' : 'udp4' });
  socket.on('error', (cause: NodeJS.ErrnoException) => done(outcomeOfError(cause), cause.code ?? cause.message));
  socket.once('message', () => done('passed', 'echoed'));
  /* Connected: the kernel reports an ICMP error (a reject) to this socket, where an unconnected one never hears of it. */
  socket.bind({ address: r.localAddress, port: r.localPort ?? 0 }, () => {
    socket.connect(r.port as number, r.address, () => {
      socket.send(PAYLOAD, (cause) => {
        if (cause) done(outcomeOfError(cause), (cause as NodeJS.ErrnoException).code ?? cause.message);
      });
    });
  });
  return () => socket.close();
}

function ping(r: Extract<AgentRequest, { op: 'connect' }>, done: (o: Outcome, detail: string) => void): () => void {
  const seconds = (r.timeoutMs / 1000).toFixed(1);
  const child = spawn('ping', ['-c1', '-n', '-q', '-W', seconds, '-I', r.localAddress, r.address], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.once('error', (cause) => done('error', cause.message));
  child.once('close', (code) => {
    if (code === 0) done('passed', 'echo reply');
    else if (/not permitted/i.test(stderr)) done('blocked', stderr.trim());
    /* ping counts ICMP errors (a reject's unreachable) apart from lost packets: "0 received, +1 errors". */
    else if (code === 1 && /\+\d+ errors?/.test(stdout)) done('unreachable', 'ICMP unreachable');
    else if (code === 1) done('timeout', 'no echo reply');
    else done('error', stderr.trim() || `ping exited ${code}`);
  });
  return () => child.kill();
}

function connect(request: Extract<AgentRequest, { op: 'connect' }>): Promise<{ outcome: Outcome; detail: string }> {
  return new Promise((resolve) => {
    let finished = false;
    let cleanup: () => void = () => undefined;
    const done = (outcome: Outcome, detail: string): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      cleanup();
      resolve({ outcome, detail });
    };
    /* ping waits for itself (-W); the timer only guards against a hung child. */
    const slack = request.protocol === 'icmp' || request.protocol === 'icmpv6' ? 1000 : 0;
    /* Silence is a drop only once the I/O already pending is read: timers run before it in the event loop. */
    const timer = setTimeout(() => setImmediate(() => done('timeout', `no answer in ${request.timeoutMs} ms`)), request.timeoutMs + slack);
    const start = request.protocol === 'tcp' ? connectTcp : request.protocol === 'udp' ? connectUdp : ping;
    cleanup = start(request, done);
  });
}

async function handle(request: AgentRequest): Promise<AgentReply> {
  if (request.op === 'listen') {
    try {
      await listen(request);
      return { id: request.id, ok: true };
    } catch (cause) {
      return { id: request.id, ok: false, error: cause instanceof Error ? cause.message : String(cause) };
    }
  }
  return { id: request.id, ...(await connect(request)) };
}

function dropPrivileges(argv: readonly string[]): void {
  const at = argv.indexOf('--uid');
  if (at === -1) return;
  const uid = Number(argv[at + 1]);
  if (!Number.isInteger(uid) || uid < 0) throw new Error(`--uid needs a number, got ${argv[at + 1]}`);
  process.setgroups?.([]);
  process.setgid?.(uid);
  process.setuid?.(uid);
}

/** Serves requests from stdin until it closes; `args` are the agent's own (`--uid N`). */
export function runProbeAgent(args: readonly string[]): void {
  dropPrivileges(args);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    void handle(JSON.parse(line) as AgentRequest).then((reply) => process.stdout.write(`${JSON.stringify(reply)}\n`));
  });
  lines.on('close', () => {
    for (const server of servers) server.close();
    process.exit(0);
  });
}
