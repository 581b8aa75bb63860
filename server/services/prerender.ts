/**
 * Renders device files before phones ask, in the background: the devices a committed change
 * touched (ChangeTracker.onChanged), and a catch-up pass over every device whose stored render is
 * missing or stale (at start-up, and after any template change, which can leave devices whose
 * bytes did not change unbumped but with a new template fingerprint). Work runs in slices of
 * at most `sliceMs` that yield to the event loop (setImmediate), so phones keep being served;
 * renders go to the write-behind store, never all into memory.
 */
import type { Mac } from '../domain/mac.js';
import type { ScanRow } from '../../db/stores/rendered-files.js';
import type { DeviceRecord } from '../../db/stores/devices.js';
import { Renderer } from './renderer.js';

export interface PreRenderLog {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  debug(obj: Record<string, unknown>, msg: string): void;
}

export interface PreRenderDeps {
  devices: { get(mac: string): DeviceRecord | null; count(): number };
  rendered: { scan(afterMac: string, limit: number): ScanRow[] };
  renderer: Pick<Renderer, 'prerender' | 'isCurrent'>;
  /** Flushed on stop, so renders made just before shutdown are kept. */
  stored: { flush(): void };
  changes: { onChanged(listener: (macs: readonly Mac[]) => void): () => void };
  catalog: { onInvalidate(listener: () => void): () => void };
  log: PreRenderLog;
}

export interface PreRenderOptions {
  /** Off: nothing is rendered ahead (renders made on demand are still stored). */
  enabled: boolean;
  /** Longest run of work between two yields to the event loop. */
  sliceMs: number;
  /** Devices read per catch-up scan step. */
  scanPage: number;
  /** A pass over at least this many devices logs its progress at info level. */
  bigPass: number;
  progressEveryMs: number;
}

const DEFAULTS: PreRenderOptions = { enabled: true, sliceMs: 4, scanPage: 256, bigPass: 1000, progressEveryMs: 5000 };

interface Scan {
  cursor: string;
  total: number;
  scanned: number;
  /** Stale devices found by the scan and not rendered yet. */
  stale: string[];
  rendered: number;
  failed: number;
  startedAt: number;
  loggedAt: number;
  big: boolean;
}

export class PreRenderer {
  private readonly opts: PreRenderOptions;
  private readonly queue = new Set<string>();
  private scan: Scan | null = null;
  private rescan = false;
  private handle: NodeJS.Immediate | null = null;
  private unsubscribe: Array<() => void> = [];
  private waiters: Array<() => void> = [];
  readonly stats = { slices: 0, devices: 0, files: 0, failed: 0, passes: 0 };

  constructor(
    private readonly d: PreRenderDeps,
    opts: Partial<PreRenderOptions> = {},
  ) {
    this.opts = { ...DEFAULTS, ...opts };
  }

  /** Follow changes and run the start-up catch-up pass (no-op when disabled). */
  start(): void {
    if (!this.opts.enabled || this.unsubscribe.length > 0) return;
    this.unsubscribe = [
      this.d.changes.onChanged((macs) => this.enqueue(macs)),
      // Inside the saving transaction: the scan itself starts in a later slice, after the commit.
      this.d.catalog.onInvalidate(() => this.catchUp()),
    ];
    this.catchUp();
  }

  /** Stop following changes, drop queued work, write buffered renders. */
  stop(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    if (this.handle) clearImmediate(this.handle);
    this.handle = null;
    this.queue.clear();
    this.scan = null;
    this.rescan = false;
    this.d.stored.flush();
    this.settle();
  }

  get running(): boolean {
    return this.unsubscribe.length > 0;
  }

  /** Devices waiting: changed ones, stale ones found, and those the catch-up scan has not read yet. */
  pending(): number {
    const scan = this.scan;
    return this.queue.size + (scan ? scan.stale.length + Math.max(0, scan.total - scan.scanned) : 0) + (this.rescan ? 1 : 0);
  }

  /** Resolves once nothing is pending (tests, benchmarks). */
  idle(): Promise<void> {
    if (this.pending() === 0 && !this.handle) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  enqueue(macs: Iterable<string>): void {
    if (!this.running) return;
    for (const mac of macs) this.queue.add(mac);
    this.schedule();
  }

  /** A pass over every device, rendering those whose stored render is missing or stale. */
  catchUp(): void {
    if (!this.running) return;
    if (this.scan) this.rescan = true;
    else this.scan = this.newScan();
    this.schedule();
  }

  private newScan(): Scan {
    const total = this.d.devices.count();
    const now = performance.now();
    const big = total >= this.opts.bigPass;
    this.stats.passes++;
    if (big) this.d.log.info({ event: 'prerender', total }, `pre-render: checking the stored renders of ${total} devices`);
    return { cursor: '', total, scanned: 0, stale: [], rendered: 0, failed: 0, startedAt: now, loggedAt: now, big };
  }

  private schedule(): void {
    if (this.handle || !this.running) return;
    this.handle = setImmediate(() => this.slice());
  }

  private slice(): void {
    this.handle = null;
    this.stats.slices++;
    const end = performance.now() + this.opts.sliceMs;
    do {
      if (!this.step()) return this.settle();
    } while (performance.now() < end);
    this.schedule();
  }

  /** One unit of work: a changed device, a stale device, or one scan page. False when done. */
  private step(): boolean {
    const next = this.queue.values().next();
    if (!next.done) {
      this.queue.delete(next.value);
      this.render(next.value);
      return true;
    }
    const scan = this.scan;
    if (!scan) return false;
    const mac = scan.stale.pop();
    if (mac !== undefined) {
      if (this.render(mac)) scan.rendered++;
      else scan.failed++;
      this.progress(scan);
      return true;
    }
    const rows = this.d.rendered.scan(scan.cursor, this.opts.scanPage);
    if (rows.length === 0) {
      this.finishScan(scan);
      return true;
    }
    scan.cursor = rows[rows.length - 1]!.mac;
    scan.scanned += rows.length;
    for (const row of rows) {
      if (Renderer.deviceTemplates(row.vendor).some((t) => !this.d.renderer.isCurrent(row, t, row.stored.get(t)))) scan.stale.push(row.mac);
    }
    return true;
  }

  /** Render one device's stale files; false if it failed (logged). */
  private render(mac: string): boolean {
    const device = this.d.devices.get(mac);
    if (!device) return true;
    try {
      this.stats.files += this.d.renderer.prerender(device);
      this.stats.devices++;
      return true;
    } catch (err) {
      // A template that does not render for this device: its phone gets the error on fetch too.
      this.stats.failed++;
      this.d.log.debug({ event: 'prerender', mac, err: err instanceof Error ? err.message : String(err) }, 'pre-render failed');
      return false;
    }
  }

  private progress(scan: Scan): void {
    const now = performance.now();
    if (!scan.big || now - scan.loggedAt < this.opts.progressEveryMs) return;
    scan.loggedAt = now;
    this.d.log.info(
      { event: 'prerender', done: Math.min(scan.scanned, scan.total) - scan.stale.length, total: scan.total, rendered: scan.rendered },
      'pre-render: catch-up in progress',
    );
  }

  private finishScan(scan: Scan): void {
    const seconds = Math.round(performance.now() - scan.startedAt) / 1000;
    const fields = { event: 'prerender', done: scan.scanned, total: scan.total, rendered: scan.rendered, failed: scan.failed, seconds };
    if (scan.failed > 0) this.d.log.warn(fields, `pre-render: ${scan.failed} devices did not render (their phones get an error)`);
    else if (scan.big) this.d.log.info(fields, 'pre-render: catch-up done');
    else this.d.log.debug(fields, 'pre-render: catch-up done');
    this.scan = null;
    if (this.rescan) {
      this.rescan = false;
      this.scan = this.newScan();
    }
  }

  private settle(): void {
    if (this.pending() > 0 || this.handle) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
