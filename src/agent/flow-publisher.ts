/**
 * Fleet mode's half of issue 6: every interval the agent reads its host's log records (ulogd2's JSON of
 * audit mode, see src/audit/ulogd.ts), adds them up into flows and writes the bounded summary to
 * `flows/<name>`, where `palisade flows --inventory etcd://...` shows the whole fleet. Written only when
 * the flows changed; a log that cannot be read is logged and retried at the next interval.
 */
import type { Etcd3 } from 'etcd3';
import { collectFlows } from '../audit/collect.ts';
import { publishedFlows, type PublishedFlows } from '../fleet/flows.ts';
import { LatestWriter } from '../fleet/latest-writer.ts';
import type { Logger } from './logger.ts';


export class FlowPublisher {
  private readonly writer: LatestWriter<PublishedFlows>;
  private timer: NodeJS.Timeout | null = null;
  private last = '';

  constructor(
    private readonly host: string,
    private readonly logs: readonly string[],
    client: Etcd3,
    key: string,
    private readonly log: Logger,
  ) {
    this.writer = new LatestWriter<PublishedFlows>(client, key, log);
  }

  /** Reads the logs and writes the summary if it changed. */
  async publish(): Promise<void> {
    try {
      const flows = await collectFlows(this.logs, false);
      const text = JSON.stringify(flows);
      if (text === this.last) return;
      this.last = text;
      await this.writer.write(publishedFlows(this.host, flows, new Date()));
    } catch (cause) {
      this.log.warn({ err: (cause as Error).message }, 'reading the flow logs failed; trying again at the next interval');
    }
  }

  start(intervalMs: number): void {
    void this.publish();
    this.timer = setInterval(() => void this.publish(), intervalMs);
    this.timer.unref();
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.writer.close();
  }
}
