/**
 * While a canary rollout names this host, writes `drops/<name>` every DROP_SAMPLE_MS: the packets palisade's
 * drop and reject rules counted (src/fleet/drop-rate.ts: push's drop-rate gate reads them). Idle otherwise: a
 * fleet pays for it only during rollouts. A failed read is logged and skipped; the next sample comes anyway.
 */
import type { Etcd3 } from 'etcd3';
import type { ChainCounters } from '../kernel/backend.ts';
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
