/**
 * Fake timers over a ManualClock: `advance(ms)` moves time forward, firing each timer at its
 * due time in order and letting promises settle in between. No test sleeps for time.
 */
import type { ManualClock } from '../../server/services/clock.js';
import type { SchedulerTimers } from '../../server/services/resync.js';

interface Pending {
  at: number;
  id: number;
  fn: () => void;
}

/** Lets promise chains and setImmediate work (the dispatcher's batched result writes) run. */
export const settle = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
};

export class ManualTimers implements SchedulerTimers {
  private readonly pending = new Map<number, Pending>();
  private seq = 0;

  constructor(readonly clock: ManualClock) {}

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.clock.now() + Math.max(0, ms), id, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Moves the clock `ms` forward, firing due timers in time order. */
  async advance(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    await settle();
    for (;;) {
      let next: Pending | null = null;
      for (const p of this.pending.values()) if (p.at <= end && (next === null || p.at < next.at || (p.at === next.at && p.id < next.id))) next = p;
      if (next === null) break;
      this.pending.delete(next.id);
      if (next.at > this.clock.now()) this.clock.set(next.at);
      next.fn();
      await settle();
    }
    this.clock.set(end);
    await settle();
  }
}
