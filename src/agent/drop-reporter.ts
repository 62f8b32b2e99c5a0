/**
 * What an agent reports of its kernel's drop and reject counters. DropReporter: while a canary rollout names
 * this host, `drops/<name>` every DROP_SAMPLE_MS (src/fleet/drop-rate.ts: push's drop-rate gate reads them), idle
 * otherwise. CounterPublisher: always, `counters/<name>` (src/fleet/counters.ts, the console's hosts table), read
 * every interval and put only when the totals changed, on the liveness lease. A failed read or put is logged and
 * skipped; the next interval tries again.
 */
import type { Etcd3 } from 'etcd3';
import type { ChainCounters } from '../kernel/backend.ts';
import { countersOf, sameCounts, type PublishedCounters } from '../fleet/counters.ts';
import { DROP_SAMPLE_MS, type DropSample } from '../fleet/drop-rate.ts';
import { LatestWriter } from '../fleet/latest-writer.ts';
import type { Logger } from './logger.ts';

export class DropReporter {
  private readonly writer: LatestWriter<DropSample>;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    client: Etcd3,
    key: string,
    private readonly counters: () => Promise<ChainCounters[]>,
    private readonly log: Logger,
  ) {
    this.writer = new LatestWriter<DropSample>(client, key, log);
  }

  /** Samples while `active` (this host is a canary of the running rollout); stops otherwise. */
  set(active: boolean): void {
    if (active && this.timer === null) {
      void this.sample();
      this.timer = setInterval(() => void this.sample(), DROP_SAMPLE_MS);
      this.timer.unref();
    } else if (!active && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private async sample(): Promise<void> {
    try {
      const packets = (await this.counters()).reduce((sum, c) => sum + c.packets, 0);
      await this.writer.write({ at: new Date().toISOString(), packets });
    } catch (cause) {
      this.log.warn({ err: (cause as Error).message }, 'reading the drop counters for the canary rollout failed');
    }
  }

  close(): void {
    this.set(false);
    this.writer.close();
  }
}

export class CounterPublisher {
  private timer: NodeJS.Timeout | null = null;
  private last: { counters: PublishedCounters; lease: string } | null = null;
  private running = false;
  /** Successful puts, for tests and the benchmark's count of etcd writes. */
  writes = 0;

  constructor(
    private readonly client: Etcd3,
    private readonly key: string,
    private readonly counters: () => Promise<ChainCounters[]>,
    /** The liveness lease's id (Membership.heartbeatLease): the key goes when the agent stops heartbeating. */
    private readonly lease: () => Promise<string> | null,
    private readonly log: Logger,
  ) {}

  /**
   * Reads every `intervalMs`, the first time one interval after the start (the first ruleset is loaded by then):
   * at most one put per interval, and only when something changed.
   */
  start(intervalMs: number): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => void this.publish(), intervalMs);
    this.timer.unref();
  }

  /** One reading; put when its counts differ from the last put, or the lease it was put on is gone. */
  async publish(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const lease = await this.lease();
      if (lease === null) return;
      const counters = countersOf(await this.counters(), new Date());
      if (this.last !== null && this.last.lease === lease && sameCounts(this.last.counters, counters)) return;
      await this.client.put(this.key).value(JSON.stringify(counters)).lease(lease).exec();
      this.last = { counters, lease };
      this.writes++;
    } catch (cause) {
      this.log.warn({ err: (cause as Error).message }, `publishing ${this.key} failed; trying again at the next interval`);
    } finally {
      this.running = false;
    }
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
