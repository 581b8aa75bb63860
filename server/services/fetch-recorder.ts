/**
 * Records phone fetches without putting a SQLite write on every phone request: records are
 * buffered for `intervalMs` (or until `maxBatch` wait) and handed to a FetchWriter, which writes
 * them a slice per event-loop turn on this thread (SlicedFetchWriter, the default) or on a
 * thread of its own (FetchLogWriter). `flush()` returns once everything recorded so far is
 * written: call it before anything reads fetch data back (admin API, shutdown).
 *
 * Repeats are counted, not written: a fetch like the last row kept for the same device and file
 * (same status, config version, address and User-Agent) within the repeat window
 * (`provisioning.fetchRepeatSeconds`, 60 s; 0 turns counting off) of that row adds one to the
 * row's `repeats` and moves its `last_at`. The counts reach the database every REPEATS_EVERY_MS,
 * before a different fetch of that file is written, and on flush() and close(); a crash loses at
 * most that many seconds of counts, never a row. A phone polling every few seconds, or a boot
 * loop, then costs a row a minute per file instead of one per fetch.
 */
import type { DeviceStore, FetchRecord } from '../../db/stores/devices.js';
import type { Mac } from '../domain/mac.js';
import { Batcher } from './batcher.js';
import { SlicedFetchWriter, type FetchWriter } from './fetch-writer.js';

/** Counts are written this often (and by flush() and close()). */
const REPEATS_EVERY_MS = 10_000;
/** Rows remembered for counting repeats at most (one per device and file fetched within the window; ~200 bytes each). */
const KEPT_MAX = 20_000;

/**
 * What is remembered of a row to count repeats on it: kept small, as there may be tens of
 * thousands (status and config version exactly, the address and User-Agent as a hash; the line
 * follows the config version, as one version always renders the same line).
 */
interface Kept {
  status: number;
  configVersion: number | null;
  hash: number;
  /** FetchRecorder.seq when kept: a change to the device after that ends counting on it. */
  seq: number;
  at: number;
  /** Repeats counted since the last count was handed on. */
  repeats: number;
  lastAt: number;
}

/** FNV-1a over the address and User-Agent: a hash match on top of status and version is a repeat. */
function hashOf(r: FetchRecord): number {
  let h = 0x811c9dc5;
  const mix = (s: string) => {
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 0x0a, 0x01000193);
  };
  mix(r.ip);
  if (r.userAgent !== null) mix(r.userAgent);
  return h & 0x3fffffff; // 30 bits: a small integer, stored without a heap number
}

const MAC_LENGTH = 12;

export class FetchRecorder extends Batcher<FetchRecord> {
  private readonly writer: FetchWriter;
  /** By `mac/file`, oldest row first (a row replaced is moved to the end). */
  private readonly kept = new Map<string, Kept>();
  /** Keys of kept rows with repeats not handed on yet. */
  private counted = new Set<string>();
  /** The last forget() of each MAC (by seq) while rows kept before it may still be remembered. */
  private readonly changed = new Map<string, number>();
  private seq = 0;
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
      this.count(key, k, r.repeats, r.lastAt ?? r.at);
      return;
    }
    if (this.windowMs === 0) return super.record(r);
    const hash = hashOf(r);
    // Either side of the row: a phone worker's records arrive up to a batch late.
    if (k && (this.changed.get(r.mac) ?? 0) <= k.seq && Math.abs(r.at - k.at) < this.windowMs && k.status === r.status && k.configVersion === r.configVersion && k.hash === hash) {
      this.count(key, k, 1, r.at);
      return;
    }
    if (k) {
      // The count goes before the new row: it belongs to the row this one follows.
      this.handOn(key, k);
      this.kept.delete(key);
    } else if (this.kept.size >= KEPT_MAX) {
      this.forgetOldest(this.kept.size - KEPT_MAX + 1);
    }
    this.kept.set(key, { status: r.status, configVersion: r.configVersion, hash, seq: this.seq, at: r.at, repeats: 0, lastAt: r.at });
    super.record(r);
  }

  /**
   * The device changed, or was deleted (`null`: every device): its next fetch is a row of its
   * own, never a repeat of a row from before (whose counts still go to that row, if it remains).
   */
  forget(mac: string | null): void {
    if (this.windowMs === 0) return;
    if (mac === null || this.changed.size >= KEPT_MAX) {
      this.forgetOldest(this.kept.size);
      this.changed.clear();
      return;
    }
    this.changed.set(mac, ++this.seq);
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

  private count(key: string, k: Kept, n: number, at: number): void {
    k.repeats += n;
    if (at > k.lastAt) k.lastAt = at;
    this.counted.add(key);
  }

  /** The count of `key`'s row goes to the writer (it is added to the newest row of that device and file). */
  private handOn(key: string, k: Kept): void {
    if (k.repeats === 0) return;
    super.record({
      mac: key.slice(0, MAC_LENGTH) as Mac, file: key.slice(MAC_LENGTH + 1), at: k.lastAt, repeats: k.repeats, lastAt: k.lastAt,
      ip: '', userAgent: null, model: null, firmware: null, status: k.status, configVersion: null, lineUser: null, extension: null,
    });
    k.repeats = 0;
    this.counted.delete(key);
  }

  /** Hands every count on; `age` also forgets rows too old to count repeats on. */
  private handOnRepeats(age: boolean): void {
    if (this.counted.size > 0) {
      const counted = this.counted;
      this.counted = new Set();
      for (const key of counted) {
        const k = this.kept.get(key);
        if (k) this.handOn(key, k);
      }
    }
    if (!age) return;
    const before = this.latestAt - this.windowMs;
    let old = 0;
    for (const k of this.kept.values()) {
      if (k.at >= before) break;
      old++;
    }
    this.forgetOldest(old);
    // A change older than every row still kept no longer matters.
    const first = this.kept.values().next();
    const oldest = first.done ? Infinity : first.value.seq;
    for (const [mac, seq] of this.changed) if (seq <= oldest) this.changed.delete(mac);
  }

  private forgetOldest(n: number): void {
    for (const [key, k] of this.kept) {
      if (n-- <= 0) break;
      this.handOn(key, k);
      this.kept.delete(key);
    }
  }
}
