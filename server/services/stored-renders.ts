/**
 * Rendered device files kept in SQLite, so a fresh process serves a phone's first fetch without
 * rendering. Reads are one indexed row; writes are write-behind (buffered, one transaction every
 * `intervalMs` or `maxBatch` renders, like FetchRecorder), so no phone request waits on a write.
 * A buffered render of a device whose row changes is dropped (`drop`), and the store writes a
 * row only while the device row it was rendered from is still current.
 */
import type { RenderWrite, RenderedFileStore, StoredRender } from '../../db/stores/rendered-files.js';

export class StoredRenders {
  /** Buffered renders by MAC, then template name. */
  private pending = new Map<string, Map<string, RenderWrite>>();
  private count = 0;
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
    const buffered = this.pending.get(mac)?.get(template);
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

  /** A device row changed or went: its buffered renders are no longer right (null: all devices). */
  drop(mac: string | null): void {
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
    try {
      const written = this.store.putMany(batch);
      this.stats.written += written;
      this.stats.discarded += batch.length - written;
    } catch (err) {
      this.onError(err);
    }
  }
}
