/**
 * Keeps a FleetView current: a snapshot read (hosts and policy at one revision), then one watch on
 * `hosts/` and `policy` from that revision + 1. etcd3 reconnects a watch by itself from the last revision it
 * saw; when etcd cancels it instead (that revision was compacted away), the watch resyncs from a fresh
 * read. Reads that fail while etcd is unreachable are retried with backoff; the view keeps its last state.
 */
import type { Etcd3, Watcher } from 'etcd3';
import type { Logger } from 'pino';
import { retrying } from './backoff.ts';
import type { Keys } from './keys.ts';
import { keyEntry, readSnapshot } from './snapshot.ts';
import type { FleetView, KeyChange } from './view.ts';

export interface WatchOptions {
  /** Called after every change of the view (events come in bursts: debounce); with what happened to a host key. */
  changed: (change?: KeyChange, deleted?: boolean) => void;
  log: Logger;
  /** Told when the watch connects to etcd and loses it (metrics). */
  connection?: (connected: boolean) => void;
  /** Tests: start the first watch from this revision instead of the snapshot's + 1. */
  firstWatchFrom?: number;
}

export class FleetWatch {
  private watchers: Watcher[] = [];
  private closed = false;
  private syncing: Promise<void> | null = null;
  /** How many snapshot reads were made (1 + resyncs). */
  syncs = 0;

  constructor(
    private readonly client: Etcd3,
    private readonly keys: Keys,
    private readonly view: FleetView,
    private readonly options: WatchOptions,
  ) {}

  /** Resolves after the first successful sync (or when closed first). */
  start(): Promise<void> {
    return this.resync();
  }

  private resync(): Promise<void> {
    this.syncing ??= this.sync().finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  private async sync(): Promise<void> {
    await this.cancelWatchers();
    const snapshot = await retrying('reading the fleet from etcd', () => readSnapshot(this.client, this.keys), this.options.log, () => this.closed);
    if (snapshot === null) return;
    this.syncs++;
    this.view.reset(snapshot);
    const from = this.options.firstWatchFrom !== undefined && this.syncs === 1 ? this.options.firstWatchFrom : snapshot.revision + 1;
    this.watchers = [this.watch(from)];
    this.options.log.info({ revision: snapshot.revision, hosts: snapshot.hosts.length }, 'fleet read from etcd; watching');
    this.options.changed();
  }

  private isHost(key: Buffer): boolean {
    const text = key.toString();
    return text.startsWith(this.keys.hosts) || text.startsWith(this.keys.members);
  }

  /** One watch on [hosts/, policy-candidate]: `hosts/` and `members/` sort before `policy`, `alive/` and `flows/` before them and `status/` after, so liveness and statuses are not seen. */
  private watch(from: number): Watcher {
    const watcher = this.client.watch().inRange({ start: this.keys.hosts, end: `${this.keys.candidate}\0` }).startRevision(String(from)).watcher();
    const { log, changed } = this.options;
    const isPolicy = (key: Buffer): boolean => key.toString() === this.keys.policy;
    const isCandidate = (key: Buffer): boolean => key.toString() === this.keys.candidate;
    watcher.on('put', (kv) => {
      if (isPolicy(kv.key)) this.view.setPolicy(kv.value.toString(), Number(kv.mod_revision));
      else if (isCandidate(kv.key)) this.view.setCandidate(kv.value.toString(), Number(kv.mod_revision));
      else if (this.isHost(kv.key)) return changed(this.view.putKey(keyEntry(kv), Number(kv.mod_revision)), false);
      else return;
      changed();
    });
    watcher.on('delete', (kv) => {
      if (isPolicy(kv.key)) this.view.setPolicy(null, Number(kv.mod_revision));
      else if (isCandidate(kv.key)) this.view.setCandidate(null, Number(kv.mod_revision));
      else if (this.isHost(kv.key)) return changed(this.view.deleteKey(kv.key.toString(), Number(kv.mod_revision)), true);
      else return;
      changed();
    });
    watcher.on('disconnected', (err) => {
      this.options.connection?.(false);
      log.warn({ err: err.message }, 'etcd watch disconnected; keeping the last fleet state and reconnecting');
    });
    watcher.on('connected', () => {
      this.options.connection?.(true);
      log.debug('etcd watch connected');
    });
    watcher.on('error', (err) => {
      /* etcd already dropped this watch: canceling it again would confuse the client's bookkeeping. */
      this.watchers = this.watchers.filter((w) => w !== watcher);
      if (this.closed) return;
      log.warn({ err: err.message }, 'etcd canceled the watch (its revision was compacted?): resyncing from a fresh read');
      void this.resync();
    });
    return watcher;
  }

  private async cancelWatchers(): Promise<void> {
    const watchers = this.watchers;
    this.watchers = [];
    await Promise.all(watchers.map((w) => w.cancel().catch(() => undefined)));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.cancelWatchers();
  }
}
