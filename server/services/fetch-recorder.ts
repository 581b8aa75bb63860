/**
 * Records phone fetches without putting a SQLite write on every phone request: records are
 * buffered for `intervalMs` (or until `maxBatch` wait) and handed to a FetchWriter, which writes
 * them a slice per event-loop turn on this thread (SlicedFetchWriter, the default) or on a
 * thread of its own (FetchLogWriter). `flush()` returns once everything recorded so far is
 * written: call it before anything reads fetch data back (admin API, shutdown).
 */
import type { DeviceStore, FetchRecord } from '../../db/stores/devices.js';
import { Batcher } from './batcher.js';
import { SlicedFetchWriter, type FetchWriter } from './fetch-writer.js';

export class FetchRecorder extends Batcher<FetchRecord> {
  private readonly writer: FetchWriter;

  constructor(devices: DeviceStore, intervalMs = 250, maxBatch = 2000, onError: (err: unknown) => void = () => {}, writer?: FetchWriter) {
    const w = writer ?? new SlicedFetchWriter(devices, onError);
    super((batch) => w.write(batch), intervalMs, maxBatch, onError);
    this.writer = w;
  }

  override flush(): void {
    this.drain();
    this.writer.sync();
  }

  /** Records not in the database yet: buffered here, or handed to the writer and not written. */
  pending(): number {
    return this.buffered + this.writer.pending();
  }

  /** Writes what is buffered and stops the writer (shutdown). */
  async close(): Promise<void> {
    this.drain();
    await this.writer.close();
  }
}
