/**
 * The resync throttle: `ratePerSecond` tokens a second, at most `burst` saved up. Pure over the
 * time it is given, so tests drive it with a manual clock.
 *
 * The burst is kept small (4 % of a second's worth, at least 1): in any one-second window at
 * most `rate + burst` NOTIFYs start, so 5,000 phones told to resync at 20/s really arrive at
 * 20/s and a building's phones do not all reboot in the same second. A few tokens of slack
 * absorb timers that fire late, so the long-run rate stays on the setting.
 */
export class TokenBucket {
  readonly burst: number;
  private tokens: number;
  private last: number;

  constructor(readonly ratePerSecond: number, now: number, burst?: number) {
    if (!(ratePerSecond > 0 && Number.isFinite(ratePerSecond))) throw new RangeError('ratePerSecond must be > 0');
    this.burst = burst ?? Math.max(1, Math.floor(ratePerSecond / 25));
    this.tokens = this.burst;
    this.last = now;
  }

  /** Takes one token if there is one. */
  tryTake(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1 - 1e-9) return false;
    this.tokens = Math.max(0, this.tokens - 1);
    return true;
  }

  /** Milliseconds until a token is available (0: now). */
  msUntilToken(now: number): number {
    this.refill(now);
    if (this.tokens >= 1 - 1e-9) return 0;
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond));
  }

  private refill(now: number): void {
    const dt = now - this.last;
    if (dt <= 0) return; // a clock that went back never mints tokens
    this.tokens = Math.min(this.burst, this.tokens + (dt * this.ratePerSecond) / 1000);
    this.last = now;
  }
}
