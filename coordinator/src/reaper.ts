// The lease reaper: a background loop that gives expired leases back to the queue and publishes lone decisions whose
// publication delay is over. `runOnce(now)` is the whole job; `start()` only adds the timer, so tests call runOnce
// with the time they want.
import type { Clock } from './clock.js';
import type { JobNotices } from './events.js';
import type { Store } from './store/store.js';

export class LeaseReaper {
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly notices?: JobNotices,
  ) {}

  async runOnce(now = this.clock.now()): Promise<number> {
    const expired = await this.store.expireLeases(now);
    if (expired > 0) this.notices?.changed('*');
    return expired;
  }

  start(intervalMs: number): this {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = true;
      this.runOnce()
        .catch((err) => console.error('[reaper] expiring leases failed:', err))
        .finally(() => (this.running = false));
    }, intervalMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
