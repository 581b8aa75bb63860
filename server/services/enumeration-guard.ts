/**
 * MAC-enumeration defence: per source IP, failures (unknown MACs, MAC mismatches, failed
 * download auth) are counted in a sliding window; past the threshold the IP is blocked for a
 * while. Counting is in memory: a restart forgets blocks, which errs on the side of phones.
 */
import type { Clock } from './clock.js';

export type FailureKind = 'unknown-mac' | 'mac-mismatch' | 'auth' | 'bad-request' | 'network' | 'client-cert' | 'admin-token' | 'wrong-pin';

export interface GuardOptions {
  maxFailures: number;
  windowMs: number;
  blockForMs: number;
}

export interface Block {
  ip: string;
  since: number;
  until: number;
  failures: number;
}

export class EnumerationGuard {
  private readonly failures = new Map<string, number[]>();
  private readonly blocks = new Map<string, Block>();
  /** Called once per new block (security log line, metrics). */
  onBlock: (block: Block) => void = () => {};
  /** Called whenever the set of blocks changes (a block, a lift): phone workers mirror it. */
  onChange: () => void = () => {};

  constructor(
    private readonly opts: GuardOptions,
    private readonly clock: Clock,
  ) {}

  /** Milliseconds left on a block, or 0. */
  blockedFor(ip: string): number {
    const b = this.blocks.get(ip);
    if (!b) return 0;
    const left = b.until - this.clock.now();
    if (left > 0) return left;
    this.blocks.delete(ip);
    return 0;
  }

  fail(ip: string, _kind: FailureKind): void {
    const now = this.clock.now();
    const since = now - this.opts.windowMs;
    let list = this.failures.get(ip);
    if (!list) {
      list = [];
      this.failures.set(ip, list);
    }
    while (list.length > 0 && list[0]! <= since) list.shift();
    list.push(now);
    if (list.length >= this.opts.maxFailures && !this.blocks.has(ip)) {
      const block = { ip, since: now, until: now + this.opts.blockForMs, failures: list.length };
      this.blocks.set(ip, block);
      this.failures.delete(ip);
      this.onBlock(block);
      this.onChange();
    }
    if (this.failures.size > 100_000) this.prune(since);
  }

  list(): Block[] {
    const now = this.clock.now();
    return [...this.blocks.values()].filter((b) => b.until > now);
  }

  lift(ip: string): boolean {
    this.failures.delete(ip);
    const lifted = this.blocks.delete(ip);
    if (lifted) this.onChange();
    return lifted;
  }

  private prune(since: number): void {
    for (const [ip, list] of this.failures) if ((list[list.length - 1] ?? 0) <= since) this.failures.delete(ip);
  }
}
