/**
 * WAL checkpoints off the event loop (config `database.checkpointThread`, on by default).
 *
 * SQLite copies the write-ahead log back into the database file every 1,000 pages, inside the
 * commit that crosses the mark, with two fsyncs: on the primary's event loop, where every phone
 * request waits for it. `npx tsx scripts/bench/checkpoints.ts` (fetch-log rows written as the
 * default writer writes them, 15,000 a measurement, three each): 19.7-20.4 us of event loop a row
 * and 12.5-13.6 ms for the longest commit with SQLite's checkpoints; 9.3-9.6 us and 2.0-5.8 ms
 * with this thread. Rendering on request also writes a stored render per file: 10,000 first
 * fetches rendered on request (wrk, 64 connections, six runs each way, alternating) ran at
 * 4,930-5,250/s with the thread against 4,300-5,200/s without.
 *
 * A thread with a connection of its own runs a PASSIVE checkpoint (it copies what no reader still
 * needs and never waits for anyone) every `intervalMs`, and the main connection's own threshold
 * is raised to a backstop that only a stalled thread lets the WAL reach. Under writes back to back
 * a PASSIVE checkpoint never catches up completely, so the WAL does not restart from its beginning
 * until writing pauses: the 15,000 rows above left a 73 MB WAL file, against 4.5 MB (SQLite keeps
 * the file at that size and writes it again from the start). The thread loads nothing of
 * deskprov, only the SQLite driver: about 10 MB of RSS, against 30-35 MB for the fetch-log thread
 * (which checkpoints itself, so the two never both run). If the thread fails, the main connection
 * checkpoints as before.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { restoreAutoCheckpoint, WAL_AUTOCHECKPOINT_PAGES, type Db } from '../../db/index.js';

export interface CheckpointerOptions {
  /** Milliseconds between checkpoints (default 250: about 1,000 pages apart at 4,000 pages/s). */
  intervalMs?: number;
  /** The main connection's own threshold while the thread runs (default BACKSTOP_PAGES). */
  backstopPages?: number;
  /** The driver module the thread loads (tests give one that fails). */
  driver?: string;
  /** After each checkpoint that copied pages: WAL frames, and frames copied so far. */
  onCheckpoint?: (frames: number, copied: number) => void;
}

interface ThreadData {
  driver: string;
  path: string;
  intervalMs: number;
}

type ThreadMessage = { type: 'checkpoint'; frames: number; copied: number } | { type: 'error'; message: string };

/**
 * The thread (CommonJS, evaluated): it reports a checkpoint only when it copied pages, and an
 * error only when it differs from the last one, so a broken disk does not flood the log.
 */
const THREAD = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
let lastError = '';
let lastCopied = -1;
setInterval(() => {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    lastError = '';
    if (r.checkpointed > 0 && r.checkpointed !== lastCopied) parentPort.postMessage({ type: 'checkpoint', frames: r.log, copied: r.checkpointed });
    lastCopied = r.checkpointed;
  } catch (err) {
    const message = err && err.message ? err.message : String(err);
    if (message !== lastError) parentPort.postMessage({ type: 'error', message });
    lastError = message;
  }
}, workerData.intervalMs);
`;

const require = createRequire(import.meta.url);

/** The main connection's own threshold while the thread runs: 50x SQLite's, about 200 MB of WAL. */
export const BACKSTOP_PAGES = WAL_AUTOCHECKPOINT_PAGES * 50;

export class WalCheckpointer {
  private worker: Worker | null;

  constructor(
    private readonly db: Db,
    private readonly onError: (err: Error) => void,
    o: CheckpointerOptions = {},
  ) {
    const data: ThreadData = { driver: o.driver ?? require.resolve('better-sqlite3'), path: db.name, intervalMs: o.intervalMs ?? 250 };
    this.worker = new Worker(THREAD, {
      eval: true,
      workerData: data,
      // It holds one pragma result at a time.
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 1 },
    });
    // Never keeps the process alive: shutdown closes it.
    this.worker.unref();
    this.worker.on('message', (m: ThreadMessage) => {
      if (m.type === 'checkpoint') o.onCheckpoint?.(m.frames, m.copied);
      else this.onError(new Error(`WAL checkpoint failed: ${m.message}`));
    });
    this.worker.on('error', (err) => this.stopped(err));
    this.worker.on('exit', (code) => this.stopped(new Error(`WAL checkpoint thread exited (code ${code})`)));
    db.pragma(`wal_autocheckpoint = ${o.backstopPages ?? BACKSTOP_PAGES}`);
  }

  /** Whether the thread is running (false once it failed or was closed). */
  get running(): boolean {
    return this.worker !== null;
  }

  /** Stops the thread; the main connection checkpoints again. */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
    restoreAutoCheckpoint(this.db);
  }

  private stopped(err: Error): void {
    const w = this.worker;
    if (!w) return;
    this.worker = null;
    void w.terminate();
    restoreAutoCheckpoint(this.db);
    this.onError(err);
  }

}
