/**
 * Records phone fetches without putting a SQLite write on every phone request: records are
 * buffered for `intervalMs` (or until `maxBatch` wait) and handed to a FetchWriter, which writes
 * them a slice per event-loop turn on this thread (SlicedFetchWriter, the default) or on a
 * thread of its own (FetchLogWriter). In front of the batches, repeated fetches are counted on
 * their first row (FetchFolds). `flush()` returns once everything recorded so far, counted
 * repeats included, is written: call it before anything reads fetch data back (admin API, shutdown).
 */
import type { DeviceStore, FetchRecord } from '../../db/stores/devices.js';
import { Batcher } from './batcher.js';
import { FetchFolds, type FetchFold, type FetchFoldOptions } from './fetch-folds.js';
import { SlicedFetchWriter, type FetchWriter } from './fetch-writer.js';

export class FetchRecorder extends Batcher<FetchRecord> {
  private readonly writer: FetchWriter;
  /** Repeated fetches counted on one row (fetch-folds.ts), in front of the batches. */
  private readonly folds: FetchFolds;

  constructor(
    devices: DeviceStore,
    intervalMs = 250,
    maxBatch = 2000,
    onError: (err: unknown) => void = () => {},
    writer?: FetchWriter,
    /** provisioning.fetchLogRepeatWindow (0 by default here: a row for every fetch) and the clock. */
    folding: FetchFoldOptions = { windowMs: 0 },
  ) {
    const w = writer ?? new SlicedFetchWriter(devices, onError);
    super((batch) => w.write(batch), intervalMs, maxBatch, onError);
    this.writer = w;
    this.folds = new FetchFolds((r) => super.record(r), folding);
  }

  /** One phone fetch: a row of its own, or counted on an earlier one's (fetch-folds.ts). */
  override record(r: FetchRecord): FetchFold | null {
    return this.folds.record(r);
  }

  /** One more fetch with the same answer as the fold's first (FetchFolds.repeat); false: `record` it. */
  repeat(fold: FetchFold, at: number): boolean {
    return this.folds.repeat(fold, at);
  }

  /**
   * A record folded already, by the phone worker that answered (its rows and repeat records):
   * batched as it is. Folding it again would count a repeat record as one fetch.
   */
  recordFolded(r: FetchRecord): void {
    super.record(r);
  }

  /**
   * Called by flush(): the primary asks its phone workers to report their counts too
   * (PhoneWorkers.askForReports), which arrive after the read that flushed, for the next one.
   */
  onFlush: () => void = () => {};

  /** Everything recorded so far, repeats counted included, written before this returns. */
  override flush(): void {
    this.onFlush();
    this.report();
    this.writer.sync();
  }

  /** What the folds have counted, reported and handed to the writer now (not waiting for it). */
  report(): void {
    this.folds.flush();
    this.drain();
  }

  /** Records not in the database yet: buffered here, or handed to the writer and not written. */
  pending(): number {
    return this.buffered + this.writer.pending();
  }

  /** Writes what is buffered and stops the writer (shutdown). */
  async close(): Promise<void> {
    this.folds.close();
    this.drain();
    await this.writer.close();
  }
}
