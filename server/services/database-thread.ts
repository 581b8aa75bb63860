/**
 * The database's background work on a thread of its own (config `database.backgroundThread`, on
 * by default): WAL checkpoints, and writing stored renders. Both used to run on the primary's
 * event loop, where every phone request waited for them.
 *
 * - **Checkpoints.** SQLite copies the write-ahead log back into the database file every 1,000
 *   pages, inside the commit that crosses the mark, with two fsyncs. Here a PASSIVE checkpoint
 *   (it copies what no reader still needs and never waits for anyone) runs every `intervalMs`,
 *   and the main connection's own threshold is raised to a backstop that only a stalled thread
 *   lets the WAL reach. `npx tsx scripts/bench/checkpoints.ts` (fetch-log rows written as the
 *   default writer writes them, 15,000 a measurement, three each): 19.7-20.4 us of event loop a
 *   row and 12.5-13.6 ms for the longest commit with SQLite's checkpoints; 9.3-9.6 us and 2.0-5.8
 *   ms with this thread. Under writes back to back a PASSIVE checkpoint never catches up
 *   completely, so the WAL does not restart from its beginning until writing pauses: those 15,000
 *   rows left a 73 MB WAL file, against 4.5 MB (SQLite keeps the file and writes it again from
 *   the start).
 * - **Stored renders** (StoredRenders' write-behind batches, through RenderWriteSink): a render
 *   on request or of the pre-render pass is a 4 KB row; the thread writes each batch in
 *   transactions of CHUNK rows, so the main connection's own writes wait for the lock at most
 *   one chunk. Until a batch is committed StoredRenders still finds its renders in memory.
 *
 * The thread loads nothing of deskprov, only the SQLite driver: RSS at 100,000 devices 228.8-232.1
 * MB with it (`scripts/bench/memory.ts`), 209-216 MB without; the fetch-log thread costs 30-35 MB (it
 * checkpoints itself: with it, this thread only writes renders). If the thread fails, what it had
 * not written is written on the main connection, and so is everything after; the main connection
 * checkpoints again.
 */
import { createRequire } from 'node:module';
import type { MessagePort } from 'node:worker_threads';
import { restoreAutoCheckpoint, WAL_AUTOCHECKPOINT_PAGES, type Db } from '../../db/index.js';
import { bodyText, PUT_RENDER_SQL, putParams, type PutParams, type RenderWrite, type RenderedFileStore } from '../../db/stores/rendered-files.js';
import type { RenderWriteSink } from './stored-renders.js';
import { WriterThread } from './writer-thread.js';

export interface DatabaseThreadOptions {
  /** Checkpoint here (default): off when the fetch-log thread checkpoints. */
  checkpoints?: boolean;
  /** Milliseconds between checkpoints (default 250: about 1,000 pages apart at 4,000 pages/s). */
  intervalMs?: number;
  /** The main connection's own threshold while the thread checkpoints (default BACKSTOP_PAGES). */
  backstopPages?: number;
  /** The driver module the thread loads (tests give one that fails). */
  driver?: string;
  /** How long `sync()` waits at most. */
  syncTimeoutMs?: number;
  /** After each checkpoint that copied pages: WAL frames, and frames copied so far. */
  onCheckpoint?: (frames: number, copied: number) => void;
}

interface ThreadData {
  driver: string;
  path: string;
  port: MessagePort;
  /** One Int32: the sequence number of the last render batch the thread has finished with. */
  finished: SharedArrayBuffer;
  intervalMs: number;
  checkpoints: boolean;
  putSql: string;
  chunk: number;
}

type Reply =
  | { type: 'renders'; seq: number; stored: number; error: string | null }
  | { type: 'checkpoint'; frames: number; copied: number }
  | { type: 'error'; message: string };

/** Stored renders per transaction in the thread: the main connection's writes wait at most this many. */
const CHUNK = 64;

/**
 * The thread (CommonJS, evaluated). It reports a checkpoint only when it copied pages, and a
 * checkpoint error only when it differs from the last one, so a broken disk does not flood the log.
 */
const THREAD = `
const { workerData: d } = require('node:worker_threads');
const Database = require(d.driver);
const db = new Database(d.path);
db.pragma('synchronous = NORMAL');
db.pragma('foreign_keys = ON');
// It only appends: a small page cache is enough.
db.pragma('cache_size = -512');
const put = db.prepare(d.putSql);
const putRows = db.transaction((rows) => {
  let n = 0;
  for (const r of rows) {
    if (typeof r[4] !== 'string') r[4] = Buffer.from(r[4].buffer, r[4].byteOffset, r[4].byteLength);
    n += put.run(r).changes;
  }
  return n;
});
const finished = new Int32Array(d.finished);
d.port.on('message', (m) => {
  let stored = 0;
  let error = null;
  try {
    for (let i = 0; i < m.rows.length; i += d.chunk) stored += putRows.immediate(m.rows.slice(i, i + d.chunk));
  } catch (err) {
    error = err && err.message ? err.message : String(err);
  }
  d.port.postMessage({ type: 'renders', seq: m.seq, stored, error });
  Atomics.store(finished, 0, m.seq);
  Atomics.notify(finished, 0);
});
let lastError = '';
let lastCopied = -1;
if (d.checkpoints) setInterval(() => {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    lastError = '';
    if (r.checkpointed > 0 && r.checkpointed !== lastCopied) d.port.postMessage({ type: 'checkpoint', frames: r.log, copied: r.checkpointed });
    lastCopied = r.checkpointed;
  } catch (err) {
    const message = err && err.message ? err.message : String(err);
    if (message !== lastError) d.port.postMessage({ type: 'error', message });
    lastError = message;
  }
}, d.intervalMs);
`;

const require = createRequire(import.meta.url);

/** The main connection's own threshold while the thread checkpoints: 50x SQLite's, about 200 MB of WAL. */
export const BACKSTOP_PAGES = WAL_AUTOCHECKPOINT_PAGES * 50;

/**
 * A render's parameters as the thread gets them: the body as its text. Copied as a Buffer, every
 * body became an ArrayBuffer outside the thread's heap, which V8 collects only after tens of
 * megabytes of them (RSS at 100,000 devices went from 223 to 252 MB); text lives in the heap,
 * collected with the rest. Valid UTF-8 (a render always is) turns back into the same bytes; any
 * other body goes as it is.
 */
function threadParams(w: RenderWrite): PutParams {
  const p = putParams(w);
  p[4] = bodyText(w.body) ?? w.body;
  return p;
}

interface PendingRenders {
  batch: RenderWrite[];
  done: (stored: number) => void;
}

export class DatabaseThread extends WriterThread<Reply, PendingRenders> implements RenderWriteSink {
  private readonly checkpoints: boolean;

  constructor(
    private readonly db: Db,
    private readonly renders: RenderedFileStore,
    onError: (err: Error) => void,
    private readonly o: DatabaseThreadOptions = {},
  ) {
    super('database thread', o.syncTimeoutMs ?? 10_000, onError);
    this.checkpoints = o.checkpoints ?? true;
    const data: ThreadData = {
      driver: o.driver ?? require.resolve('better-sqlite3'),
      path: db.name,
      port: this.threadPort,
      finished: this.finished.buffer as SharedArrayBuffer,
      intervalMs: o.intervalMs ?? 250,
      checkpoints: this.checkpoints,
      putSql: PUT_RENDER_SQL,
      chunk: CHUNK,
    };
    // It holds one batch of renders at a time (256 of about 4 KB).
    this.start(THREAD, data, { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 });
    if (this.checkpoints) db.pragma(`wal_autocheckpoint = ${o.backstopPages ?? BACKSTOP_PAGES}`);
  }

  write(batch: RenderWrite[], done: (stored: number) => void): boolean {
    return this.post({ batch, done }, (seq) => ({ seq, rows: batch.map(threadParams) }));
  }

  protected apply(m: Reply): void {
    switch (m.type) {
      case 'renders': {
        const f = this.inFlight.get(m.seq);
        this.inFlight.delete(m.seq);
        if (m.error !== null) this.onError(new Error(`could not store rendered files (batch ${m.seq}): ${m.error}`));
        f?.done(m.stored);
        return;
      }
      case 'checkpoint':
        this.o.onCheckpoint?.(m.frames, m.copied);
        return;
      case 'error':
        this.onError(new Error(`WAL checkpoint failed: ${m.message}`));
        return;
    }
  }

  protected released(): void {
    if (this.checkpoints) restoreAutoCheckpoint(this.db);
  }

  protected writeHere({ batch, done }: PendingRenders): void {
    let stored = 0;
    try {
      stored = this.renders.putMany(batch);
    } finally {
      done(stored);
    }
  }
}
