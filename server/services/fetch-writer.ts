/**
 * How FetchRecorder's batches reach the database. Every phone request adds a fetch-log row, and
 * at a few thousand requests a second a batch (B-tree pages all over the log's per-device index,
 * WAL frames, checkpoints) took the event loop 30-80 ms when written in one go: that is where the
 * worst phone latencies came from. Two writers avoid it:
 *
 * - SlicedFetchWriter (the default): on the main thread, a slice of records per event-loop turn.
 * - FetchLogWriter (`provisioning.fetchLogThread`): a worker thread with its own connection to
 *   the same file writes them, in short transactions so the main thread's own writes wait little
 *   for the lock, and checkpoints the WAL. The main thread keeps the caches: it decides which
 *   fetched_version writes a batch needs (DeviceStore.servedChanges) and applies them to its
 *   cached heads when the thread answers that they are committed. If the thread fails, what it
 *   had not written is written on the main thread, and so is everything after.
 *
 * Both: `sync()` returns once everything handed over is written, for reads that must see it.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { MessagePort } from 'node:worker_threads';
import { restoreAutoCheckpoint, type Db } from '../../db/index.js';
import { siblingModule } from '../project.js';
import { WriterThread } from './writer-thread.js';
import type { DeviceStore, FetchRecord } from '../../db/stores/devices.js';

/** What the thread is started with. */
export interface WriterData {
  path: string;
  port: MessagePort;
  /** Two Int32s: the sequence number of the last batch the thread has finished with; -1 once it failed to start. */
  committed: SharedArrayBuffer;
  /** Records per transaction. */
  chunk: number;
  checkpointMs: number;
}

export interface WriterBatch {
  seq: number;
  records: FetchRecord[];
  /** The fetched_version writes this batch needs (DeviceStore.servedChanges). */
  served: FetchRecord[];
}

export interface WriterReply {
  seq: number;
  /** fetched_version writes committed (empty when the batch failed before them). */
  served: Array<Pick<FetchRecord, 'mac' | 'configVersion'>>;
  error: string | null;
}

export interface FetchWriterOptions {
  chunk?: number;
  checkpointMs?: number;
  /** Batches posted and not yet written, at most; a batch beyond that is dropped and reported. */
  maxInFlight?: number;
  /** How long `sync()` waits at most. */
  syncTimeoutMs?: number;
  /** The thread's module file (tests start one that fails). */
  entry?: string;
}

/**
 * Starts the thread's module; if it cannot, marks the thread failed (a `sync()` waiting on it
 * returns) and fails the thread. From the TypeScript sources (tests, scripts) tsx is registered
 * in the thread first: a worker does not inherit the main thread's loader hooks. Compiled
 * (dist/), the module is plain JavaScript and is imported as it is.
 */
function threadBoot(entry: string): string {
  const failed = '(err) => { Atomics.store(shared, 1, -1); Atomics.notify(shared, 0); throw err; }';
  const start = entry.endsWith('.ts')
    ? `try {
  require(${JSON.stringify(createRequire(import.meta.url).resolve('tsx/cjs/api'))}).register();
  require(${JSON.stringify(entry)});
} catch (err) {
  (${failed})(err);
}`
    : `import(${JSON.stringify(pathToFileURL(entry).href)}).catch(${failed});`;
  return `const shared = new Int32Array(require('node:worker_threads').workerData.committed);\n${start}`;
}
const THREAD_ENTRY = siblingModule(import.meta.url, 'fetch-writer-thread');

/** Where FetchRecorder's batches go. */
export interface FetchWriter {
  write(records: FetchRecord[]): void;
  /** Returns once everything handed over so far is in the database. */
  sync(): void;
  /** Records handed over and not written yet. */
  pending(): number;
  close(): Promise<void>;
}

/**
 * On the main thread, a slice of records per event-loop turn, each slice its own transaction:
 * a batch of thousands written at once held the event loop for tens of milliseconds, and every
 * phone request waiting behind it took as long.
 *
 * A slice a turn is not always enough. With a thousand phones on keep-alive connections a turn
 * takes tens of milliseconds, and records came in six times faster than 128 a turn wrote them
 * (wrk, 1,000 connections, 10 s: 31,000 of 184,000 written by its end, the rest in the 3 s
 * after, all of them held in memory meanwhile). Under load that never stops, that queue would
 * grow until the process ran out of memory. So once more than `maxQueued` records wait, a turn
 * writes more than a slice: up to `burst` more, and anything beyond four times `maxQueued` at
 * once. The log stays boundedly behind, and the time it takes is spent while the phones are being
 * served, not after.
 *
 * Not all of the excess in one turn: a burst comes whenever many phones' repeat windows end
 * together (wrk re-fetching 12,500 files through two processes: 25,000 new rows in the first
 * second of a run), and writing it down to `maxQueued` at once meant about 15,000 inserts in a
 * single turn of the primary while its phones waited (per-turn instrumentation of the benchmark
 * put its slowest turns at the start of such runs).
 */
export class SlicedFetchWriter implements FetchWriter {
  private readonly queue: FetchRecord[][] = [];
  /** How far into queue[0] has been written. */
  private offset = 0;
  /** Records in the queue not written yet. */
  private queued = 0;
  private scheduled: NodeJS.Immediate | null = null;

  constructor(
    private readonly devices: DeviceStore,
    private readonly onError: (err: unknown) => void,
    private readonly slice = 128,
    private readonly maxQueued = 10_000,
    private readonly burst = 1_000,
  ) {}

  write(records: FetchRecord[]): void {
    if (records.length === 0) return;
    this.queue.push(records);
    this.queued += records.length;
    this.scheduled ??= setImmediate(() => this.pump());
  }

  pending(): number {
    return this.queued;
  }

  sync(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
    this.next(Infinity);
  }

  async close(): Promise<void> {
    this.sync();
  }

  private pump(): void {
    this.scheduled = null;
    const over = this.queued - this.maxQueued;
    this.next(Math.max(this.slice, Math.min(over, this.burst), over - 3 * this.maxQueued));
    if (this.queue.length > 0) this.scheduled = setImmediate(() => this.pump());
  }

  /** Writes up to `n` records from the head of the queue, in one transaction. */
  private next(n: number): void {
    const parts: FetchRecord[][] = [];
    let left = n;
    while (left > 0 && this.queue.length > 0) {
      const batch = this.queue[0]!;
      const end = Math.min(batch.length, this.offset + left);
      parts.push(this.offset === 0 && end === batch.length ? batch : batch.slice(this.offset, end));
      left -= end - this.offset;
      if (end === batch.length) {
        this.queue.shift();
        this.offset = 0;
      } else {
        this.offset = end;
      }
    }
    if (parts.length === 0) return;
    const records = parts.length === 1 ? parts[0]! : parts.flat();
    this.queued -= records.length;
    try {
      this.devices.recordFetches(records);
    } catch (err) {
      this.onError(err);
    }
  }
}

export class FetchLogWriter extends WriterThread<WriterReply, FetchRecord[]> implements FetchWriter {
  private readonly maxInFlight: number;

  constructor(
    private readonly db: Db,
    private readonly devices: DeviceStore,
    onError: (err: unknown) => void,
    o: FetchWriterOptions = {},
  ) {
    // Two slots: [1] is -1 once the thread failed to start (threadBoot).
    super('fetch-log writer thread', o.syncTimeoutMs ?? 5000, onError, 2);
    this.maxInFlight = o.maxInFlight ?? 64;
    const data: WriterData = { path: db.name, port: this.threadPort, committed: this.finished.buffer as SharedArrayBuffer, chunk: o.chunk ?? 256, checkpointMs: o.checkpointMs ?? 1000 };
    // It holds one batch at a time: a small heap keeps the process within its memory budget.
    this.start(threadBoot(o.entry ?? THREAD_ENTRY), data, { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 4 });
    // Checkpoints are the thread's job now; the main connection takes them back if it stops.
    db.pragma('wal_autocheckpoint = 0');
  }

  /** Hands a batch to the thread (on the main thread if it is not running). */
  write(records: FetchRecord[]): void {
    if (!this.worker) {
      this.devices.recordFetches(records);
      return;
    }
    if (this.inFlight.size >= this.maxInFlight) {
      this.onError(new Error(`fetch-log writer is ${this.inFlight.size} batches behind: ${records.length} fetch records dropped`));
      return;
    }
    this.post(records, (seq): WriterBatch => ({ seq, records, served: this.devices.servedChanges(records) }));
  }

  pending(): number {
    let n = 0;
    for (const records of this.inFlight.values()) n += records.length;
    return n;
  }

  protected override alive(): boolean {
    if (!this.worker) return false;
    if (Atomics.load(this.finished, 1) !== -1) return true;
    this.stop(new Error('fetch-log writer thread did not start'));
    return false;
  }

  protected apply(r: WriterReply): void {
    this.inFlight.delete(r.seq);
    this.devices.fetchesWritten(r.served);
    if (r.error !== null) this.onError(new Error(`could not write fetch records (batch ${r.seq}): ${r.error}`));
  }

  protected released(): void {
    restoreAutoCheckpoint(this.db);
  }

  protected writeHere(records: FetchRecord[]): void {
    this.devices.recordFetches(records);
  }
}
