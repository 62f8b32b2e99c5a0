/**
 * An agent's own keys on two leases (docs/fleet.md). Membership: `members/<name>` (what it observes) and one
 * claim key per address, on a lease of `graceSeconds`, so a crashed or upgrading agent's host stays in its
 * peers' sets that long. Liveness: `alive/<name>` on a lease of `ttlSeconds`, for fleet status. etcd3 sends the
 * keepalives; a lost lease is granted again and everything put again, retrying until etcd answers. Claims
 * are put again on every publish (a put keeps a key's create revision, the moment of the first claim) so they
 * move to the newest lease; claims of addresses no longer observed are deleted. Closing stops the keepalives
 * without revoking (a restart is not a leave); leave() revokes both leases: the host leaves at once.
 */
import type { Etcd3, Lease } from 'etcd3';
import type { Logger } from 'pino';
import { backoffDelay, sleep } from './backoff.ts';
import type { Keys } from './keys.ts';

/** Addresses an agent claims at most (readers keep the registration's `max_addresses` oldest). */
export const MAX_CLAIMS = 64;

export interface Observed {
  /** The `members/<name>` value (canonical JSON). */
  text: string;
  /** Every address it lists. */
  addresses: string[];
}

export class Membership {
  private member: Lease | null = null;
  private heartbeat: Lease | null = null;
  private observed: Observed | null = null;
  private closed = false;
  private running: Promise<void> | null = null;
  private dirty = false;
  /** Successful publications (for tests and the benchmark). */
  publications = 0;

  constructor(
    private readonly client: Etcd3,
    private readonly keys: Keys,
    private readonly name: string,
    private readonly ttlSeconds: number,
    private readonly graceSeconds: number,
    private readonly log: Logger,
  ) {}

  /** Publishes (or re-publishes) the observation; resolves once etcd has it, or when closed. */
  publish(observed: Observed): Promise<void> {
    this.observed = observed;
    return this.ensure();
  }

  /** Puts everything again (its key disappeared: deleted, or expired while another agent of this host had it). */
  republish(reason: string): Promise<void> {
    if (this.observed === null || this.closed) return Promise.resolve();
    this.log.warn({ key: this.keys.member(this.name) }, `${reason}: registering again`);
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
        this.publications++;
        attempt = 0;
      } catch (cause) {
        this.dirty = true;
        /* Never wait longer than a third of the heartbeat TTL: a lease restored after an outage must be renewed in time. */
        const delay = backoffDelay(attempt++, 200, Math.max(500, (this.ttlSeconds * 1000) / 3));
        this.log.warn({ err: (cause as Error).message, retryInMs: delay }, `registering ${this.keys.member(this.name)} failed; retrying`);
        await sleep(delay);
      }
    }
  }

  private async put(): Promise<void> {
    const observed = this.observed;
    if (observed === null) return;
    if (this.member === null || this.member.revoked()) this.member = this.newLease(this.graceSeconds);
    if (this.heartbeat === null || this.heartbeat.revoked()) this.heartbeat = this.newLease(this.ttlSeconds);
    const [memberLease, heartbeatLease] = await Promise.all([this.member.grant(), this.heartbeat.grant()]);
    const claims = observed.addresses.slice(0, MAX_CLAIMS);
    const existing = await this.client.getAll().prefix(this.keys.claims(this.name)).keys();
    const stale = existing.filter((key) => !claims.some((a) => this.keys.claim(this.name, a) === key));
    const always = this.keys.member(this.name);
    await this.client
      .if(always, 'Mod', '>', -1)
      .then(
        ...claims.map((a) => this.client.put(this.keys.claim(this.name, a)).value('').lease(memberLease)),
        ...stale.map((key) => this.client.delete().key(key)),
        this.client.put(always).value(observed.text).lease(memberLease),
        this.client.put(this.keys.aliveOf(this.name)).value(new Date().toISOString()).lease(heartbeatLease),
      )
      .commit();
  }

  private newLease(ttl: number): Lease {
    const lease = this.client.lease(ttl);
    lease.on('lost', (err) => {
      if (this.closed || (this.member !== lease && this.heartbeat !== lease)) return;
      if (this.member === lease) this.member = null;
      if (this.heartbeat === lease) this.heartbeat = null;
      this.log.warn({ err: err.message }, `a lease of ${this.keys.member(this.name)} was lost; registering again`);
      void this.ensure();
    });
    return lease;
  }

  /** The liveness lease, for keys that live and die with the heartbeat (`counters/<name>`); null until it is granted (again). */
  heartbeatLease(): Promise<string> | null {
    return this.heartbeat === null || this.heartbeat.revoked() ? null : this.heartbeat.grant();
  }

  /** Stops the keepalives: the host stays a member for the grace period (or until a new agent takes over). */
  close(): void {
    this.closed = true;
    this.member?.release();
    this.heartbeat?.release();
  }

  /** A graceful leave: revokes both leases, so the observation, claims and liveness go now. */
  async leave(): Promise<void> {
    this.closed = true;
    await this.running?.catch(() => undefined);
    await Promise.all([this.member?.revoke(), this.heartbeat?.revoke()]);
    await this.client.delete().prefix(this.keys.claims(this.name)).exec();
  }
}
