/**
 * Records phone fetches without putting a SQLite write on every phone request: records are
 * buffered and written in one transaction every `intervalMs` (or when `maxBatch` is reached),
 * on the fetch-log writer thread when there is one (fetch-writer.ts), else on this thread.
 * `flush()` returns once everything recorded so far is written: call it before anything reads
 * fetch data back (admin API, shutdown).
 */
import type { DeviceStore, FetchRecord } from '../../db/stores/devices.js';
import { Batcher } from './batcher.js';
import type { FetchLogWriter } from './fetch-writer.js';

export class FetchRecorder extends Batcher<FetchRecord> {
  constructor(
    devices: DeviceStore,
    intervalMs = 250,
    maxBatch = 2000,
    onError: (err: unknown) => void = () => {},
    private readonly writer: FetchLogWriter | null = null,
  ) {
    super((batch) => (writer ? writer.write(batch) : devices.recordFetches(batch)), intervalMs, maxBatch, onError);
  }

  override flush(): void {
    this.drain();
    this.writer?.sync();
  }

  /** Writes what is buffered and stops the writer thread (shutdown). */
  async close(): Promise<void> {
    this.drain();
    await this.writer?.close();
  }
}
