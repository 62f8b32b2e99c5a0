/**
 * Turns bursts of triggers into single runs: a run starts once triggers stop for `quietMs`, or `maxMs` after
 * the first trigger of a burst, whichever is first (100 joins in a burst are one apply). Runs never overlap:
 * a trigger during a run starts a new burst, run after it.
 */
export class Debouncer {
  private timer: NodeJS.Timeout | null = null;
  private burstStart = 0;
  private running = false;
  private again = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly run: () => Promise<void>,
    private readonly quietMs: number,
    private readonly maxMs: number,
  ) {}

  trigger(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    const now = Date.now();
    if (this.timer === null) this.burstStart = now;
    else clearTimeout(this.timer);
    const delay = Math.max(0, Math.min(this.quietMs, this.burstStart + this.maxMs - now));
    this.timer = setTimeout(() => void this.fire(), delay);
  }

  private async fire(): Promise<void> {
    this.timer = null;
    this.running = true;
    try {
      await this.run();
    } finally {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.trigger();
      } else {
        for (const resolve of this.idleWaiters.splice(0)) resolve();
      }
    }
  }

  /** Resolves when nothing is scheduled or running. */
  idle(): Promise<void> {
    if (this.timer === null && !this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.again = false;
  }
}
