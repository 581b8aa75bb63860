/**
 * Records phone fetches without putting a SQLite write on every phone request: records are
 * buffered and written in one transaction every `intervalMs` (or when `maxBatch` is reached).
 * `flush()` is called before anything reads fetch data back (admin API, shutdown).
 */
import type { DeviceStore, FetchRecord } from '../../db/stores/devices.js';

export class FetchRecorder {
  private buffer: FetchRecord[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly devices: DeviceStore,
    private readonly intervalMs = 250,
    private readonly maxBatch = 2000,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  record(f: FetchRecord): void {
    this.buffer.push(f);
    if (this.buffer.length >= this.maxBatch) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.intervalMs);
      this.timer.unref();
    }
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    try {
      this.devices.recordFetches(batch);
    } catch (err) {
      this.onError(err);
    }
  }
}
