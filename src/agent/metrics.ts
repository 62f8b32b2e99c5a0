/**
 * The agent's Prometheus metrics (`palisade agent --metrics 127.0.0.1:9742`, off by default): applies by mode
 * and failures by kind, apply duration, the time of the last successful apply, set element counts, drift
 * found and repaired, etcd connection state and watch lag, and the drop/reject counters per chain read from
 * the kernel at each scrape. The agent reports through `measuredApplier` (wrapping its applier) and the
 * `etcd*` methods; nothing else in the loop knows about metrics.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Ruleset } from '../compile/ir.ts';
import { OperationError, UsageError } from '../diagnostics.ts';
import type { ChainCounters } from '../kernel/backend.ts';
import { VERSION } from '../version.ts';
import { DEFAULT_METRICS_PORT } from '../defaults.ts';
import type { AppliedResult, Applier } from './applier.ts';


export class AgentMetrics {
  readonly registry = new Registry();
  private readonly applies: Counter<'mode'>;
  private readonly failures: Counter<'kind'>;
  private readonly duration: Histogram;
  private readonly lastSuccess: Gauge;
  private readonly elements: Gauge<'set'>;
  private readonly driftRepaired: Counter;
  private readonly etcdUp: Gauge;
  private readonly watchLag: Gauge;

  /** `counters` reads the kernel's drop/reject counters of palisade's chains (at each scrape). */
  constructor(counters: () => Promise<ChainCounters[]>) {
    const registers = [this.registry];
    new Gauge({ name: 'palisade_build_info', help: 'Always 1; the version of palisade running', labelNames: ['version'], registers }).set({ version: VERSION }, 1);
    this.applies = new Counter({ name: 'palisade_applies_total', help: 'Successful applies by mode (full load, membership element updates, unchanged)', labelNames: ['mode'], registers });
    this.failures = new Counter({ name: 'palisade_apply_failures_total', help: 'Failed applies by kind (kernel, state, ...); the last good ruleset stayed', labelNames: ['kind'], registers });
    this.duration = new Histogram({
      name: 'palisade_apply_duration_seconds',
      help: 'Duration of an apply (validation, load, state), successful or not',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.lastSuccess = new Gauge({ name: 'palisade_last_apply_success_timestamp_seconds', help: 'Unix time of the last successful apply', registers });
    this.elements = new Gauge({ name: 'palisade_set_elements', help: 'Elements in each named set of the applied ruleset', labelNames: ['set'], registers });
    this.driftRepaired = new Counter({ name: 'palisade_drift_repaired_total', help: 'Applies that found the kernel differing from the last applied ruleset (drift) and loaded it again', registers });
    this.etcdUp = new Gauge({ name: 'palisade_etcd_connected', help: '1 while the watch on etcd is connected, 0 otherwise', registers });
    this.watchLag = new Gauge({ name: 'palisade_watch_lag_seconds', help: 'Time from the last watched change seen to its ruleset applied', registers });
    /*
     * Read from the kernel once per scrape: prom-client collects the gauges concurrently, so the first gauge starts
     * the read and the others share it while it runs; the next scrape reads again (never an earlier scrape's values).
     */
    let inFlight: Promise<ChainCounters[] | null> | null = null;
    const read = (): Promise<ChainCounters[] | null> => {
      inFlight ??= counters()
        .catch(() => null)
        .finally(() => {
          inFlight = null;
        });
      return inFlight;
    };
    const perChain = (name: string, help: string, value: (c: ChainCounters) => number): Gauge =>
      new Gauge({
        name,
        help,
        labelNames: ['chain'],
        registers,
        async collect() {
          const chains = await read();
          this.reset();
          for (const c of chains ?? []) this.set({ chain: c.chain }, value(c));
        },
      });
    perChain('palisade_dropped_packets', "Packets counted by the drop rules of each of palisade's chains (kernel counter)", (c) => c.packets);
    perChain('palisade_dropped_bytes', "Bytes counted by the drop rules of each of palisade's chains (kernel counter)", (c) => c.bytes);
    perChain('palisade_rejected_packets', "Packets counted by the reject rules of each of palisade's chains (kernel counter)", (c) => c.rejected);
    perChain('palisade_rejected_bytes', "Bytes counted by the reject rules of each of palisade's chains (kernel counter)", (c) => c.rejectedBytes);
    new Gauge({
      name: 'palisade_kernel_counters_readable',
      help: 'Whether the last scrape could read the kernel counters (1) or not (0)',
      registers,
      async collect() {
        this.set((await read()) === null ? 0 : 1);
      },
    });
  }

  applied(ruleset: Ruleset, result: AppliedResult, seconds: number): void {
    this.duration.observe(seconds);
    this.applies.inc({ mode: result.mode });
    this.lastSuccess.set(Date.now() / 1000);
    this.elements.reset();
    for (const set of ruleset.sets) this.elements.set({ set: set.name }, set.elements.length);
    if (result.drifted) this.driftRepaired.inc();
    if (this.changeSeenAt !== null) this.watchLag.set((Date.now() - this.changeSeenAt) / 1000);
    this.changeSeenAt = null;
  }

  failed(cause: unknown, seconds: number): void {
    this.duration.observe(seconds);
    this.failures.inc({ kind: cause instanceof OperationError ? cause.kind : 'internal' });
  }

  private changeSeenAt: number | null = null;

  /** A watched change arrived (the first one since the last apply starts the lag). */
  etcdChange(): void {
    this.changeSeenAt ??= Date.now();
  }

  etcdConnected(connected: boolean): void {
    this.etcdUp.set(connected ? 1 : 0);
  }
}

/** The applier, measured: every apply's duration and outcome go to `metrics`. */
export function measuredApplier(applier: Applier, metrics: AgentMetrics): Applier {
  return {
    async apply(ruleset) {
      const started = performance.now();
      try {
        const result = await applier.apply(ruleset);
        metrics.applied(ruleset, result, (performance.now() - started) / 1000);
        return result;
      } catch (cause) {
        metrics.failed(cause, (performance.now() - started) / 1000);
        throw cause;
      }
    },
  };
}

/** `HOST:PORT` or `[V6]:PORT`; a bare port listens on loopback; port 0 takes a free one. */
export function parseListen(text: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$|^(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[3] ?? match?.[4]);
  if (match === null || !Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--metrics needs HOST:PORT (e.g. 127.0.0.1:${DEFAULT_METRICS_PORT}), got "${text}"`);
  return { host: match[1] ?? match[2] ?? '127.0.0.1', port };
}

/** Serves GET /metrics at `listen` until closed; resolves once listening. */
export async function serveMetrics(metrics: AgentMetrics, listen: string): Promise<Server> {
  const { host, port } = parseListen(listen);
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (cause: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${cause instanceof Error ? cause.message : String(cause)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (cause: NodeJS.ErrnoException) => reject(new OperationError(`--metrics ${listen}: cannot listen (${cause.code ?? cause.message})`, { kind: 'other', unchanged: true })));
    server.listen(port, host, () => resolve());
  });
  return server;
}
