/**
 * Runs a probe plan in the lab: a probe agent per namespace (listeners, and connections of "no particular
 * user") and one per (namespace, uid) for per-user connections; real connections with short timeouts and
 * bounded concurrency; a probe whose result differs from explain's prediction is tried again with a longer
 * timeout (and, still differing, a last time, longer still, few at once), so a busy machine is not mistaken for
 * a firewall.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { AgentReply, AgentRequest, Outcome } from './probe-agent.ts';
import type { Probe, ProbePlan } from './probe-plan.ts';
import type { Decision } from '../explain/evaluate.ts';
import { PROBE_AGENT_COMMAND, selfCommand } from '../self.ts';
import { LabError, type LabState } from './state.ts';

export interface ProbeResult extends Probe {
  outcome: Outcome;
  detail: string;
  passed: boolean;
  /** What the kernel did, as explain words it: accept, drop (timeout, or refused locally) or reject (reset, ICMP unreachable); null: the probe failed. */
  observed: Decision | null;
  /** The kernel disagrees with explain, and explain evaluated every rule on the way. */
  mismatch: boolean;
  /** The kernel disagrees with explain, but raw rules (which explain does not evaluate) were on the way. */
  unverified: boolean;
}

export interface RunOptions {
  /** Connect / echo / ping timeout of the first try. */
  timeoutMs: number;
  /** Timeout of the second try of a probe that disagreed with the prediction. */
  retryTimeoutMs: number;
  /** Connections in flight at once, over all agents. */
  concurrency: number;
}

export const DEFAULT_RUN_OPTIONS: RunOptions = { timeoutMs: 300, retryTimeoutMs: 1500, concurrency: 400 };

/**
 * A probe that still disagrees with explain after its second try gets a last one, longer and with few others in
 * flight: a machine busy enough to fail two tries (another lab, a second copy of the test suite) is not loaded
 * as hard again. Only disagreements: the timeouts that agree (most drops) are not tried a third time.
 */
const LAST_TRY = { timeoutMs: 3000, concurrency: 32 };


/** A probe's outcome as a decision: a reject answers at once, a drop is silence (or, on the sender, a refusal to send). */
export function observedDecision(outcome: Outcome): Decision | null {
  switch (outcome) {
    case 'passed':
      return 'accept';
    case 'refused':
    case 'unreachable':
      return 'reject';
    case 'timeout':
    case 'blocked':
      return 'drop';
    case 'error':
      return null;
  }
}

type Request = AgentRequest extends infer R ? (R extends AgentRequest ? Omit<R, 'id'> : never) : never;

/** A probe agent in a namespace (src/lab/probe-agent.ts), as root or a uid. */
export class Agent {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending = new Map<number, (reply: AgentReply) => void>();
  private next = 1;
  private stderr = '';
  private exited: string | null = null;

  constructor(
    readonly namespace: string,
    uid: number,
  ) {
    const args = ['netns', 'exec', namespace, ...selfCommand(), PROBE_AGENT_COMMAND, ...(uid === 0 ? [] : ['--uid', String(uid)])];
    this.child = spawn('ip', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    /* An agent that died (its close event answers what is pending) must not take this process with it. */
    this.child.stdin.on('error', () => undefined);
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const reply = JSON.parse(line) as AgentReply;
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
    this.child.on('close', (code) => {
      this.exited = `probe agent in ${namespace} exited (${code}): ${this.stderr.trim()}`;
      for (const resolve of this.pending.values()) resolve({ id: 0, ok: false, error: this.exited });
      this.pending.clear();
    });
  }

  request(request: Request): Promise<AgentReply> {
    if (this.exited !== null) return Promise.resolve({ id: 0, ok: false, error: this.exited });
    const id = this.next++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.stdin.write(`${JSON.stringify({ ...request, id })}\n`);
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.exited !== null) return resolve();
      this.child.once('close', () => resolve());
      this.child.stdin.end();
    });
  }
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function bounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function namespaceOf(state: LabState, host: string): string {
  const found = state.hosts.find((h) => h.host === host);
  if (found === undefined) throw new LabError(`host ${host} is not in lab ${state.lab}: run \`palisade lab up\` with the same inventory`);
  return found.namespace;
}

/** A probe listener that could not start: names the host, its namespace, the address and the port. */
function listenError(state: LabState, l: { host: string; protocol: string; address: string; port: number }, error: string): LabError {
  const where = `${l.protocol} [${l.address}]:${l.port} on host ${l.host} (namespace ${namespaceOf(state, l.host)})`;
  return /EADDRINUSE/.test(error)
    ? new LabError(`cannot probe ${where}: the port is already in use by another process in that namespace; stop it and probe again (${error})`)
    : new LabError(`cannot listen on ${where} for the probes: ${error}`);
}

/**
 * One connection from a namespace, as a uid (0: root), by a probe agent of its own: the packet of
 * `palisade trace`. The agent is the running palisade (src/self.ts), so it works from the single executable.
 */
export async function probeOnce(namespace: string, uid: number, request: Extract<Request, { op: 'connect' }>): Promise<{ outcome: Outcome; detail: string }> {
  const agent = new Agent(namespace, uid);
  try {
    const reply = await agent.request(request);
    return 'outcome' in reply ? reply : { outcome: 'error', detail: reply.ok ? 'no outcome' : reply.error };
  } finally {
    await agent.close();
  }
}

/** `onProgress`: probes done of all (the first tries, then the second tries of the doubtful ones). */
export async function runProbes(state: LabState, plan: ProbePlan, options: RunOptions = DEFAULT_RUN_OPTIONS, onProgress?: (done: number, total: number) => void): Promise<ProbeResult[]> {
  const agents = new Map<string, Agent>();
  const agent = (host: string, uid: number): Agent => {
    const key = `${host}/${uid}`;
    let found = agents.get(key);
    if (found === undefined) {
      found = new Agent(namespaceOf(state, host), uid);
      agents.set(key, found);
    }
    return found;
  };
  try {
    const listeners = new Map<string, { host: string; protocol: 'tcp' | 'udp'; address: string; port: number }>();
    for (const p of plan.probes) {
      if (p.protocol !== 'tcp' && p.protocol !== 'udp') continue;
      listeners.set(`${p.destination}/${p.protocol}/${p.destinationAddress}/${p.port}`, { host: p.destination, protocol: p.protocol, address: p.destinationAddress, port: p.port as number });
    }
    for (const p of plan.probes) agent(p.source, p.uid);
    await bounded([...listeners.values()], options.concurrency, async (l) => {
      const reply = await agent(l.host, 0).request({ op: 'listen', protocol: l.protocol, address: l.address, port: l.port });
      if ('ok' in reply && !reply.ok) throw listenError(state, l, reply.error);
    });
    const attempt = async (p: Probe, timeoutMs: number): Promise<ProbeResult> => {
      const reply = await agent(p.source, p.uid).request({
        op: 'connect',
        protocol: p.protocol,
        address: p.destinationAddress,
        port: p.port,
        localAddress: p.sourceAddress,
        localPort: p.sourcePort,
        timeoutMs,
      });
      const { outcome, detail } = 'outcome' in reply ? reply : { outcome: 'error' as const, detail: reply.ok ? 'no outcome' : reply.error };
      const passed = outcome === 'passed';
      const observed = observedDecision(outcome);
      const differs = observed === null ? passed !== p.predicted : observed !== p.decision;
      return { ...p, outcome, detail, passed, observed, mismatch: differs && p.unevaluated.length === 0, unverified: differs && p.unevaluated.length > 0 };
    };
    let done = 0;
    const counted = async (p: Probe, timeoutMs: number): Promise<ProbeResult> => {
      const result = await attempt(p, timeoutMs);
      onProgress?.(++done, plan.probes.length);
      return result;
    };
    const results = await bounded(plan.probes, options.concurrency, (p) => counted(p, options.timeoutMs));
    /* A timeout through raw rules agrees with explain (which does not evaluate them) but may be a busy machine: tried again too. */
    const again = results.flatMap((r, i) => (r.mismatch || r.unverified || r.outcome === 'error' || (r.outcome === 'timeout' && r.unevaluated.length > 0) ? [i] : []));
    done = plan.probes.length - again.length;
    const retried = await bounded(again, options.concurrency, (i) => counted(plan.probes[i] as Probe, options.retryTimeoutMs));
    again.forEach((i, k) => (results[i] = retried[k] as ProbeResult));
    const last = again.filter((i) => results[i]?.mismatch === true || results[i]?.outcome === 'error');
    const lastTried = await bounded(last, Math.min(options.concurrency, LAST_TRY.concurrency), (i) => attempt(plan.probes[i] as Probe, Math.max(options.retryTimeoutMs, LAST_TRY.timeoutMs)));
    last.forEach((i, k) => (results[i] = lastTried[k] as ProbeResult));
    return results;
  } finally {
    await Promise.all([...agents.values()].map((a) => a.close()));
  }
}
