/**
 * Writes an agent's own keys, `status/<name>` and `flows/<name>` (no lease: what a dead agent last said stays
 * readable). Only the newest value matters: while etcd is unreachable, newer ones replace the one waiting.
 */
import type { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import { backoffDelay, sleep } from './backoff.ts';

export class LatestWriter<T> {
  private latest: T | null = null;
  private running: Promise<void> | null = null;
  private closed = false;
  /** Successful writes, for the benchmark's count of etcd writes. */
  writes = 0;

  constructor(
    private readonly client: Etcd3,
    private readonly key: string,
    private readonly log: Logger,
  ) {}

  write(value: T): Promise<void> {
    this.latest = value;
    this.running ??= this.loop().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async loop(): Promise<void> {
    for (let attempt = 0; this.latest !== null && !this.closed; ) {
      const value = this.latest;
      this.latest = null;
      try {
        await this.client.put(this.key).value(JSON.stringify(value)).exec();
        this.writes++;
        attempt = 0;
      } catch (cause) {
        this.latest ??= value;
        const delay = backoffDelay(attempt++);
        this.log.warn({ err: (cause as Error).message, retryInMs: delay }, `writing ${this.key} failed; retrying`);
        await sleep(delay);
      }
    }
  }

  close(): void {
    this.closed = true;
  }
}
