/**
 * Write-behind batching: items are buffered and handed to `write` together, every `intervalMs`
 * or at once when `maxBatch` are waiting, so a hot path only appends to an array. `flush()`
 * writes what is buffered now (before reads that need it, and at shutdown).
 */
export class Batcher<T> {
  private buffer: T[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly write: (batch: T[]) => void,
    private readonly intervalMs: number,
    private readonly maxBatch: number,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  record(item: T): void {
    this.buffer.push(item);
    if (this.buffer.length >= this.maxBatch) this.drain();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.drain(), this.intervalMs);
      this.timer.unref();
    }
  }

  flush(): void {
    this.drain();
  }

  /** Items recorded and not handed to `write` yet. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** Hands what is buffered to `write` (the timer's and a full buffer's path; flush() may add more). */
  protected drain(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    try {
      this.write(batch);
    } catch (err) {
      this.onError(err);
    }
  }
}
