/**
 * nftables' ruleset generation, watched: a long-lived `nft monitor` in the target prints `# new generation N
 * by process P (name)` after every committed transaction, whoever made it. Counting those lines gives a mark
 * that moves on every change to any table: equal marks mean the kernel's ruleset did not change in between,
 * known without listing it. The mark is trusted only once the monitor's netlink socket is subscribed (its
 * groups in /proc/PID/net/netlink), and never after the monitor died.
 *
 * For long-lived callers (the agent): `watchGeneration(target)` starts it, the nft backend then waits for
 * its own transactions to show up in it, and `stopWatchingGeneration` ends it (also done at process exit).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { commandLine, type Target } from './exec.ts';

/** How long a transaction's own line may take to come through the monitor before the mark is not trusted. */
const OWN_LINE_MS = 1000;
const SUBSCRIBE_MS = 5000;
/** Authors remembered, for a transaction whose line came before its caller asked. */
const RECENT = 64;
/** NETLINK_NETFILTER in /proc/net/netlink. */
const NETLINK_NETFILTER = '12';

export class NftGenerationWatch {
  private seq = 0;
  private subscribed = false;
  private dead = false;
  private readonly authors = new Map<number, number>();
  private readonly waiters = new Set<() => void>();
  private readonly child: ChildProcess;

  constructor(readonly target: Target) {
    const [command, ...args] = commandLine(target, 'nft', ['monitor']) as [string, ...string[]];
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    this.child.on('error', () => this.die());
    this.child.on('exit', () => this.die());
    let partial = '';
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.line(line);
    });
    this.child.unref();
    (this.child.stdout as unknown as { unref?: () => void } | null)?.unref?.();
  }

  private line(line: string): void {
    const match = /^# new generation \d+ by process (\d+)/.exec(line);
    if (match === null) return;
    this.seq += 1;
    this.authors.set(Number(match[1]), this.seq);
    if (this.authors.size > RECENT) this.authors.delete(this.authors.keys().next().value as number);
    for (const wake of this.waiters) wake();
  }

  private die(): void {
    this.dead = true;
    for (const wake of this.waiters) wake();
  }

  /** Resolves once the monitor listens (true), or could not (false). */
  async ready(): Promise<boolean> {
    const end = Date.now() + SUBSCRIBE_MS;
    while (!this.subscribed && !this.dead && Date.now() < end) {
      const pid = this.child.pid;
      const table = pid === undefined ? '' : await readFile(`/proc/${pid}/net/netlink`, 'utf8').catch(() => '');
      this.subscribed = table.split('\n').some((row) => {
        const [, eth, port, groups] = row.trim().split(/\s+/);
        return eth === NETLINK_NETFILTER && port === String(pid) && groups !== undefined && !/^0+$/.test(groups);
      });
      if (!this.subscribed) await sleep(10);
    }
    return this.subscribed && !this.dead;
  }

  /** Changes seen so far; null while it cannot be trusted (not subscribed yet, or the monitor died). */
  mark(): number | null {
    return this.subscribed && !this.dead ? this.seq : null;
  }

  /** Waits until the transaction of process `pid` shows up after mark `since`; false when it did not in time. */
  async sawChangeBy(pid: number | undefined, since: number): Promise<boolean> {
    if (pid === undefined) return false;
    const seen = (): boolean => (this.authors.get(pid) ?? 0) > since;
    const end = Date.now() + OWN_LINE_MS;
    while (!seen() && !this.dead && Date.now() < end) {
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, Math.max(1, end - Date.now()));
        this.waiters.add(wake);
      });
    }
    return seen() && !this.dead;
  }

  stop(): void {
    this.dead = true;
    this.child.kill();
  }
}

const watches = new Map<string, NftGenerationWatch>();
const key = (target: Target): string => target.netns ?? '';
let exitHook = false;

/** Starts watching the target's generation (once per target and process); resolves when it can be trusted. */
export async function watchGeneration(target: Target): Promise<NftGenerationWatch> {
  let watch = watches.get(key(target));
  if (watch === undefined) {
    watch = new NftGenerationWatch(target);
    watches.set(key(target), watch);
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const w of watches.values()) w.stop();
      });
    }
  }
  await watch.ready();
  return watch;
}

/** The target's watch, if a long-lived caller started one. */
export function generationWatch(target: Target): NftGenerationWatch | undefined {
  return watches.get(key(target));
}

export function stopWatchingGeneration(target: Target): void {
  watches.get(key(target))?.stop();
  watches.delete(key(target));
}
