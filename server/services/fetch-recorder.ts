/**
 * Records phone fetches without putting a SQLite write on every phone request: records are
 * buffered for `intervalMs` (or until `maxBatch` wait) and handed to a FetchWriter, which writes
 * them a slice per event-loop turn on this thread (SlicedFetchWriter, the default) or on a
 * thread of its own (FetchLogWriter). `flush()` returns once everything recorded so far is
 * written: call it before anything reads fetch data back (admin API, shutdown).
 *
 * Repeats are counted, not written: a fetch like the last row kept for the same device and file
 * (same status, config version, address, User-Agent and line) within the repeat window
 * (`provisioning.fetchRepeatSeconds`, 60 s; 0 turns counting off) of that row adds one to the row's `repeats` and moves its `last_at`. The counts reach the database
 * every REPEATS_EVERY_MS, before a different fetch of that file is written, and on flush() and
 * close(); a crash loses at most that many seconds of counts, never a row. A phone polling
 * every few seconds, or a boot loop, then costs a row a minute per file instead of one per fetch.
 */
import type { DeviceStore, FetchRecord } from '../../db/stores/devices.js';
import { Batcher } from './batcher.js';
import { SlicedFetchWriter, type FetchWriter } from './fetch-writer.js';

/** Counts are written this often (and by flush() and close()). */
const REPEATS_EVERY_MS = 10_000;
/** Rows remembered for counting repeats at most (one per device and file fetched within the window). */
const KEPT_MAX = 50_000;

interface Kept {
  /** The row as recorded (its fields are what a repeat must match). */
  row: FetchRecord;
  /** Repeats counted since the last count was handed on. */
  repeats: number;
  lastAt: number;
}

const sameFetch = (a: FetchRecord, b: FetchRecord): boolean =>
  a.status === b.status &&
  a.configVersion === b.configVersion &&
  a.ip === b.ip &&
  a.userAgent === b.userAgent &&
  a.lineUser === b.lineUser &&
  a.extension === b.extension;

export class FetchRecorder extends Batcher<FetchRecord> {
  private readonly writer: FetchWriter;
  /** By `mac/file`, oldest row first (a row replaced is moved to the end). */
  private readonly kept = new Map<string, Kept>();
  /** Kept rows with repeats not handed on yet. */
  private counted = new Set<Kept>();
  /** The newest fetch time seen: the clock for ageing rows out (records carry the service clock's time). */
  private latestAt = 0;
  private readonly repeatsTimer: NodeJS.Timeout;

  private readonly windowMs: number;

  constructor(
    devices: DeviceStore,
    intervalMs = 250,
    maxBatch = 2000,
    onError: (err: unknown) => void = () => {},
    writer?: FetchWriter,
    o: { repeatWindowMs?: number } = {},
  ) {
    const w = writer ?? new SlicedFetchWriter(devices, onError);
    super((batch) => w.write(batch), intervalMs, maxBatch, onError);
    this.writer = w;
    this.windowMs = o.repeatWindowMs ?? 60_000;
    this.repeatsTimer = setInterval(() => this.handOnRepeats(true), REPEATS_EVERY_MS);
    this.repeatsTimer.unref();
  }

  /** A fetch (or a count of repeats from a phone worker, which is added to the row it counts for). */
  override record(r: FetchRecord): void {
    const key = `${r.mac}/${r.file}`;
    const k = this.kept.get(key);
    if (r.at > this.latestAt) this.latestAt = r.at;
    if (r.repeats) {
      if (!k) return super.record(r);
      this.count(k, r.repeats, r.lastAt ?? r.at);
      return;
    }
    if (this.windowMs === 0) return super.record(r);
    // Either side of the row: a phone worker's records arrive up to a batch late.
    if (k && Math.abs(r.at - k.row.at) < this.windowMs && sameFetch(k.row, r)) {
      this.count(k, 1, r.at);
      return;
    }
    if (k) {
      // The count goes before the new row: it belongs to the row this one follows.
      this.handOn(k);
      this.kept.delete(key);
    } else if (this.kept.size >= KEPT_MAX) {
      this.forgetOldest(this.kept.size - KEPT_MAX + 1);
    }
    this.kept.set(key, { row: r, repeats: 0, lastAt: r.at });
    super.record(r);
  }

  override flush(): void {
    this.handOnRepeats(false);
    this.drain();
    this.writer.sync();
  }

  /** Writes what is buffered, counts included, and stops the writer (shutdown). */
  async close(): Promise<void> {
    clearInterval(this.repeatsTimer);
    this.handOnRepeats(false);
    this.drain();
    await this.writer.close();
  }

  private count(k: Kept, n: number, at: number): void {
    k.repeats += n;
    if (at > k.lastAt) k.lastAt = at;
    this.counted.add(k);
  }

  private handOn(k: Kept): void {
    if (k.repeats === 0) return;
    super.record({ ...k.row, repeats: k.repeats, lastAt: k.lastAt });
    k.repeats = 0;
    this.counted.delete(k);
  }

  /** Hands every count on; `age` also forgets rows too old to count repeats on. */
  private handOnRepeats(age: boolean): void {
    if (this.counted.size > 0) {
      const counted = this.counted;
      this.counted = new Set();
      for (const k of counted) this.handOn(k);
    }
    if (!age) return;
    const before = this.latestAt - this.windowMs;
    let old = 0;
    for (const k of this.kept.values()) {
      if (k.row.at >= before) break;
      old++;
    }
    this.forgetOldest(old);
  }

  private forgetOldest(n: number): void {
    for (const [key, k] of this.kept) {
      if (n-- <= 0) break;
      this.handOn(k);
      this.kept.delete(key);
    }
  }
}
