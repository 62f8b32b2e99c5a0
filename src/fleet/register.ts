/**
 * An agent's `hosts/<name>` key on a lease it keeps alive (etcd3 sends the keepalives). When the lease is
 * lost (etcd unreachable for longer than the TTL, or the lease expired), a new one is granted and the facts
 * put again, retrying until etcd answers. Closing stops the keepalives without revoking: a restarted agent
 * puts the same facts on a new lease and no other host sees it leave.
 */
import type { Etcd3, Lease } from 'etcd3';
import type { Logger } from 'pino';
import { backoffDelay, sleep } from './backoff.ts';

export class Registration {
  private lease: Lease | null = null;
  private facts: string | null = null;
  private closed = false;
  private running: Promise<void> | null = null;
  private dirty = false;

  constructor(
    private readonly client: Etcd3,
    private readonly key: string,
    private readonly ttlSeconds: number,
    private readonly log: Logger,
  ) {}

  /** Publishes (or re-publishes) the facts; resolves once etcd has them, or when closed. */
  publish(facts: string): Promise<void> {
    this.facts = facts;
    return this.ensure();
  }

  private ensure(): Promise<void> {
    this.dirty = true;
    this.running ??= this.loop().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async loop(): Promise<void> {
    for (let attempt = 0; this.dirty && !this.closed; ) {
      this.dirty = false;
      try {
        await this.put();
        attempt = 0;
      } catch (cause) {
        this.dirty = true;
        /* Never wait longer than a third of the TTL: a lease restored after an outage must be renewed in time. */
        const delay = backoffDelay(attempt++, 200, Math.max(500, (this.ttlSeconds * 1000) / 3));
        this.log.warn({ err: (cause as Error).message, retryInMs: delay }, `registering ${this.key} failed; retrying`);
        await sleep(delay);
      }
    }
  }

  private async put(): Promise<void> {
    if (this.facts === null) return;
    if (this.lease === null || this.lease.revoked()) this.lease = this.newLease();
    await this.lease.put(this.key).value(this.facts).exec();
  }

  private newLease(): Lease {
    const lease = this.client.lease(this.ttlSeconds);
    lease.on('lost', (err) => {
      if (this.lease !== lease || this.closed) return;
      this.lease = null;
      this.log.warn({ err: err.message }, `lease of ${this.key} lost; registering again`);
      void this.ensure();
    });
    return lease;
  }

  /** Stops the keepalives; the key lives until the TTL runs out (or a new agent takes it over). */
  close(): void {
    this.closed = true;
    this.lease?.release();
  }
}
