/**
 * Rendered device files kept in SQLite, so a fresh process serves a phone's first fetch without
 * rendering. Reads are one indexed row; writes are write-behind (buffered, one transaction every
 * `intervalMs` or `maxBatch` renders, like FetchRecorder), so no phone request waits on a write.
 * A buffered render of a device whose row changes is dropped (`drop`), and the store writes a
 * row only while the device row it was rendered from is still current.
 */
import type { RenderWrite, RenderedFileStore, StoredRender } from '../../db/stores/rendered-files.js';

/**
 * Where batches are written off the event loop (the database thread, database-thread.ts):
 * `write` returns false when it cannot take the batch (the caller writes it), and calls `done`
 * with the rows stored once they are committed (a batch it can no longer write it writes on the
 * main connection itself). `sync` blocks until every batch handed over is done.
 */
export interface RenderWriteSink {
  write(batch: RenderWrite[], done: (stored: number) => void): boolean;
  sync(): void;
}

const keyOf = (mac: string, template: string) => `${mac}\0${template}`;

export class StoredRenders {
  /** Buffered renders by MAC, then template name. */
  private pending = new Map<string, Map<string, RenderWrite>>();
  private count = 0;
  /** Renders handed to the sink and not committed yet (found by `find` meanwhile). */
  private readonly inFlight = new Map<string, RenderWrite>();
  private sink: RenderWriteSink | null = null;
  private timer: NodeJS.Timeout | null = null;
  readonly stats = { written: 0, discarded: 0 };

  constructor(
    private readonly store: RenderedFileStore,
    private readonly intervalMs = 250,
    private readonly maxBatch = 256,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  /** The stored render of this device file, if made from `configVersion` with `stamp`. */
  find(mac: string, template: string, configVersion: number, stamp: string): StoredRender | null {
    const buffered = this.pending.get(mac)?.get(template) ?? (this.inFlight.size > 0 ? this.inFlight.get(keyOf(mac, template)) : undefined);
    if (buffered && buffered.configVersion === configVersion && buffered.stamp === stamp) return buffered;
    const row = this.store.get(mac, template);
    return row && row.configVersion === configVersion && row.stamp === stamp ? row : null;
  }

  save(w: RenderWrite): void {
    let files = this.pending.get(w.mac);
    if (!files) {
      files = new Map();
      this.pending.set(w.mac, files);
    }
    if (!files.has(w.template)) this.count++;
    files.set(w.template, w);
    if (this.count >= this.maxBatch) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Batches go to `sink` from now on (null: written here again). */
  useSink(sink: RenderWriteSink | null): void {
    this.sink = sink;
  }

  /** Writes what is buffered and waits until what was handed to the sink is committed. */
  sync(): void {
    this.flush();
    this.sink?.sync();
  }

  /** A device row changed or went: its buffered renders are no longer right (null: all devices). */
  drop(mac: string | null): void {
    if (this.inFlight.size > 0) {
      // Not found any more; the store writes them only if their row is still current anyway.
      if (mac === null) this.inFlight.clear();
      else for (const k of this.inFlight.keys()) if (k.startsWith(`${mac}\0`)) this.inFlight.delete(k);
    }
    if (this.count === 0) return;
    if (mac === null) {
      this.pending.clear();
      this.count = 0;
      return;
    }
    const files = this.pending.get(mac);
    if (!files) return;
    this.count -= files.size;
    this.pending.delete(mac);
  }

  /** Renders waiting to be written. */
  get buffered(): number {
    return this.count;
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.count === 0) return;
    const batch: RenderWrite[] = [];
    for (const files of this.pending.values()) batch.push(...files.values());
    this.pending = new Map();
    this.count = 0;
    if (this.sink) {
      // In flight before it is handed over: `done` may come at once.
      this.hold(batch);
      if (this.sink.write(batch, (stored) => this.done(batch, stored))) return;
      this.release(batch);
    }
    try {
      this.done(batch, this.store.putMany(batch));
    } catch (err) {
      this.onError(err);
    }
  }

  private done(batch: RenderWrite[], stored: number): void {
    this.stats.written += stored;
    this.stats.discarded += batch.length - stored;
    this.release(batch);
  }

  private hold(batch: RenderWrite[]): void {
    for (const w of batch) this.inFlight.set(keyOf(w.mac, w.template), w);
  }

  private release(batch: RenderWrite[]): void {
    if (this.inFlight.size === 0) return;
    for (const w of batch) {
      const k = keyOf(w.mac, w.template);
      // A later render of the same file may be in a later batch.
      if (this.inFlight.get(k) === w) this.inFlight.delete(k);
    }
  }
}
