/**
 * Renders phone files and keeps the bytes. A cached render is served only while the device's
 * config_version and the template generation are the ones it was rendered for, so nothing
 * stale is ever served after a change is committed. The cache is bounded in bytes (its files'
 * bodies and a fixed allowance each for the rest) and evicts the least recently hit, nearly.
 * Device files are also kept in SQLite (StoredRenders): on a cache miss a stored render made
 * from the same config_version with the same stamp (RenderStamp) is served without rendering.
 */
import { createHash } from 'node:crypto';
import type { DeviceHead, DeviceRow } from '../../db/stores/devices.js';
import type { ViewParts } from '../../db/stores/view-parts.js';
import type { DeviceView } from '../domain/types.js';
import { getVendor, vendors } from '../../vendors/registry.js';
import type { DeviceViewBuilder } from './device-view.js';
import type { RenderStamp } from './render-stamp.js';
import type { StoredRenders } from './stored-renders.js';
import type { TemplateCatalog, ResolvedTemplate } from './template-catalog.js';

export interface RenderedFile {
  body: Buffer;
  etag: string;
  contentType: string;
  configVersion: number | null;
  /** SIP auth user and extension of the line in this file (null when unassigned or common). */
  lineUser: string | null;
  extension: string | null;
  template: { vendor: string; name: string; origin: string; version: number };
}

/** What a device file is rendered from: the device row, and its view's parts when read with it. */
export interface RenderSource {
  device: DeviceRow;
  parts?: ViewParts;
}

/** A device's raw view (for the fetch record) and its vendor view (for templates). */
interface DeviceViews {
  raw: DeviceView;
  built: Record<string, unknown>;
  seconds: number;
}

interface Entry {
  file: RenderedFile;
  configVersion: number;
  /**
   * The device row's created_at: a device deleted and added again restarts at version 1. Entries
   * are also dropped on every row change (in a phone worker, when the change notes arrive).
   */
  createdAt: number;
  generation: number;
  /** Hit since the eviction scan last passed it (see store: a second chance instead of LRU moves). */
  used?: boolean;
}

export interface RenderStats {
  /** Served from the in-memory cache. */
  hits: number;
  /** Rendered on demand (a phone request or a common file). */
  misses: number;
  /** Served from a stored render (no render). */
  stored: number;
  /** Rendered ahead of any request by the pre-renderer. */
  prerendered: number;
  entries: number;
  bytes: number;
}

/** Where device renders persist: the write-behind store, the stamp and the time written. */
export interface RenderPersistence {
  stored: StoredRenders;
  stamp: RenderStamp;
  now: () => number;
}

/** Every template name a device file can render with, across vendors. */
const DEVICE_TEMPLATE_NAMES = [...new Set(vendors.flatMap((v) => v.templates.filter((t) => t.view === 'device').map((t) => t.name)))];
/** The device-view template names of each vendor (what the pre-renderer renders per device). */
const DEVICE_TEMPLATES_OF = new Map(vendors.map((v) => [v.id, v.templates.filter((t) => t.view === 'device').map((t) => t.name)]));

/**
 * What a cached file keeps besides its body, counted against the cache's bytes: its Entry and
 * RenderedFile objects, ETag, Map key and slot, and the phone lane's text of its headers (~0.4 KB).
 * Counted, the bound holds what the cache costs (memory.ts: RSS at 100,000 devices with a full
 * cache), not just its bodies.
 */
const ENTRY_ALLOWANCE = 768;
const cost = (e: Entry) => e.file.body.length + ENTRY_ALLOWANCE;

export function etagOf(body: Buffer): string {
  return `"${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`;
}

export class Renderer {
  private readonly cache = new Map<string, Entry>();
  private bytes = 0;
  /** Renders dropped (a device's row changed) or evicted: see `epoch`. */
  private dropped = 0;
  readonly stats = { hits: 0, misses: 0, stored: 0, prerendered: 0 };
  /** Observed by metrics: seconds spent rendering. */
  onRender: (seconds: number, vendor: string) => void = () => {};

  constructor(
    private readonly catalog: TemplateCatalog,
    private readonly views: DeviceViewBuilder,
    private readonly maxBytes = 32 * 1024 * 1024,
    private readonly persist: RenderPersistence | null = null,
  ) {}

  /**
   * What the first renders after a start would otherwise do themselves: compile every template
   * and work out the render stamp (the zone's offsets from Intl). Called once before phones are
   * answered; returns the number of template texts compiled.
   */
  prepare(): number {
    const n = this.catalog.compileAll();
    this.persist?.stamp.config();
    return n;
  }

  /**
   * The device's file for `template`, from cache when current: `device.configVersion` is the
   * config_version read for this request. On a miss the full record is needed to render: pass it,
   * or a loader (the phone hot path reads only the lean DeviceHead per request; `source` reads the
   * row with the rest of its view).
   */
  deviceFile(head: DeviceHead | DeviceRow, template: string, load?: () => RenderSource | null): RenderedFile | null {
    const key = `${head.mac}/${template}`;
    const hit = this.cache.get(key);
    if (hit && hit.configVersion === head.configVersion && hit.createdAt === head.createdAt && hit.generation === this.catalog.generation) {
      hit.used = true;
      this.stats.hits++;
      return hit.file;
    }
    const generation = this.catalog.generation;
    const resolved = this.catalog.resolve(head.vendor, template, head.model);
    // A file with no template (e.g. Yealink boot files) is a 404, not a cache miss.
    if (!resolved) return null;
    const stamp = this.persist?.stamp.of(resolved) ?? null;
    if (this.persist && stamp !== null) {
      const row = this.persist.stored.find(head.mac, template, head.configVersion, stamp);
      if (row) {
        this.stats.stored++;
        const file: RenderedFile = {
          body: row.body,
          etag: row.etag,
          contentType: row.contentType,
          configVersion: row.configVersion,
          lineUser: row.lineUser,
          extension: row.extension,
          template: templateOf(resolved),
        };
        this.store(key, { file, configVersion: row.configVersion, createdAt: head.createdAt, generation });
        return file;
      }
    }
    const source = load ? load() : isRecord(head) ? { device: head } : null;
    if (!source) return null;
    const { device } = source;
    this.stats.misses++;
    const file = this.renderDevice(device, resolved, this.viewOf(device, source.parts));
    if (stamp !== null) this.save(device, template, stamp, file);
    this.store(key, { file, configVersion: device.configVersion, createdAt: device.createdAt, generation });
    return file;
  }

  /**
   * A renderer over the same templates and views that keeps nothing: no cache, no stored renders
   * and no render metrics, so every deviceFile renders (the start-up warm-up's, warm-up.ts).
   */
  keepingNothing(): Renderer {
    return new Renderer(this.catalog, this.views, 0, null);
  }

  /** The device's row with its view's parts, in one read: a loader for deviceFile. */
  source(mac: string): RenderSource | null {
    return this.views.source(mac);
  }

  /**
   * Render and store every device file of `device` whose stored render is missing or stale
   * (the pre-renderer; nothing goes into the in-memory cache). Returns the files rendered.
   */
  prerender(device: DeviceRow): number {
    if (!this.persist) return 0;
    let view: DeviceViews | null = null;
    let rendered = 0;
    for (const template of DEVICE_TEMPLATES_OF.get(device.vendor) ?? []) {
      const resolved = this.catalog.resolve(device.vendor, template, device.model);
      if (!resolved) continue;
      const stamp = this.persist.stamp.of(resolved);
      if (this.persist.stored.find(device.mac, template, device.configVersion, stamp)) continue;
      view ??= this.viewOf(device);
      this.save(device, template, stamp, this.renderDevice(device, resolved, view));
      this.stats.prerendered++;
      rendered++;
    }
    return rendered;
  }

  /** Whether a stored render `{stamp, configVersion}` is the one `device` would get now. */
  isCurrent(device: Pick<DeviceRow, 'vendor' | 'model' | 'configVersion'>, template: string, stored: { stamp: string; configVersion: number } | undefined): boolean {
    const resolved = this.catalog.resolve(device.vendor, template, device.model);
    if (!resolved || !this.persist) return true; // nothing to render
    return stored !== undefined && stored.configVersion === device.configVersion && stored.stamp === this.persist.stamp.of(resolved);
  }

  /** The device-view template names of a vendor. */
  static deviceTemplates(vendor: string): readonly string[] {
    return DEVICE_TEMPLATES_OF.get(vendor) ?? [];
  }

  /** A file that belongs to no device (Yealink common file, Polycom default master). */
  commonFile(vendor: string, template: string, family: string | null): RenderedFile | null {
    const key = `common:${vendor}/${template}/${family ?? ''}`;
    const hit = this.cache.get(key);
    if (hit && hit.generation === this.catalog.generation) {
      this.stats.hits++;
      return hit.file;
    }
    const resolved = this.catalog.resolve(vendor, template, null);
    // No template (e.g. Yealink's common boot file): a 404, not a cache miss.
    if (!resolved) return null;
    this.stats.misses++;
    const file = this.renderWith(resolved, getVendor(vendor)!.buildCommonView(this.views.common(family)), null);
    this.store(key, { file, configVersion: 0, createdAt: 0, generation: this.catalog.generation });
    return file;
  }

  /**
   * A digest of every device file `device` gets now, rendered afresh (no cache, nothing stored):
   * equal digests, same files. An edit whose digest does not move needs no resync.
   */
  digest(device: DeviceRow): string {
    const hash = createHash('sha1');
    let view: Record<string, unknown> | null = null;
    for (const template of DEVICE_TEMPLATES_OF.get(device.vendor) ?? []) {
      hash.update(`${template}\0`);
      const resolved = this.catalog.resolve(device.vendor, template, device.model);
      if (!resolved) {
        hash.update('none\0');
        continue;
      }
      view ??= getVendor(device.vendor)!.buildView(this.views.build(device));
      try {
        hash.update(resolved.compiled.render(view));
      } catch (e) {
        hash.update(`error ${e instanceof Error ? e.message : String(e)}`);
      }
      hash.update('\0');
    }
    return hash.digest('base64');
  }

  /** Render without touching the cache (previews, diffs). */
  renderUncached(device: DeviceRow, resolved: ResolvedTemplate): string {
    const view = getVendor(device.vendor)!.buildView(this.views.build(device));
    return resolved.compiled.render(view);
  }

  /**
   * Drop a device's renders (or all). Called whenever its row changes: a version number alone is
   * not enough, since a device deleted and added again starts again at version 1.
   */
  forget(mac: string | null): void {
    this.dropped++;
    this.persist?.stored.drop(mac);
    if (mac === null) {
      this.cache.clear();
      this.bytes = 0;
      return;
    }
    for (const name of DEVICE_TEMPLATE_NAMES) {
      const key = `${mac}/${name}`;
      const e = this.cache.get(key);
      if (!e) continue;
      this.cache.delete(key);
      this.bytes -= cost(e);
    }
  }

  /**
   * Moves whenever a render this cache gave out may no longer be the one to give, or is no longer
   * held here: a device's renders dropped, one evicted, a template saved (AnswerMemo).
   */
  get epoch(): number {
    return this.dropped + this.catalog.generation;
  }

  /** An answer given again from a render this cache gave out (AnswerMemo), counted as a hit. */
  countHit(): void {
    this.stats.hits++;
  }

  cacheStats(): RenderStats {
    return { ...this.stats, entries: this.cache.size, bytes: this.bytes };
  }

  private viewOf(device: DeviceRow, parts?: ViewParts): DeviceViews {
    const started = process.hrtime.bigint();
    const raw = this.views.build(device, parts);
    return { raw, built: getVendor(device.vendor)!.buildView(raw), seconds: Number(process.hrtime.bigint() - started) / 1e9 };
  }

  private renderDevice(device: DeviceRow, resolved: ResolvedTemplate, view: DeviceViews): RenderedFile {
    const started = process.hrtime.bigint();
    const file = this.renderWith(resolved, view.built, device.configVersion);
    file.lineUser = view.raw.line?.authUser ?? null;
    file.extension = view.raw.line?.extension ?? null;
    // The view is built once per device: its cost counts towards the first file rendered with it.
    this.onRender(view.seconds + Number(process.hrtime.bigint() - started) / 1e9, device.vendor);
    view.seconds = 0;
    return file;
  }

  private save(device: DeviceRow, template: string, stamp: string, file: RenderedFile): void {
    this.persist!.stored.save({
      mac: device.mac,
      template,
      stamp,
      configVersion: device.configVersion,
      body: file.body,
      etag: file.etag,
      contentType: file.contentType,
      lineUser: file.lineUser,
      extension: file.extension,
      deviceCreatedAt: device.createdAt,
      renderedAt: this.persist!.now(),
    });
  }

  private renderWith(resolved: ResolvedTemplate, view: Record<string, unknown>, configVersion: number | null): RenderedFile {
    const text = resolved.compiled.render(view);
    // An exact-size allocation: Buffer.from() would slice a shared 8 KB pool slab, and one cached
    // file would keep its whole slab alive (a third more memory than the cache accounts for).
    const body = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
    body.write(text, 'utf8');
    return {
      body,
      etag: etagOf(body),
      contentType: getVendor(resolved.vendor)!.contentType,
      configVersion,
      lineUser: null,
      extension: null,
      template: templateOf(resolved),
    };
  }

  private store(key: string, entry: Entry): void {
    const old = this.cache.get(key);
    if (old) {
      this.bytes -= cost(old);
      this.cache.delete(key);
    }
    this.cache.set(key, entry);
    this.bytes += cost(entry);
    // Oldest first, but an entry hit since the scan last passed it goes to the back instead, once:
    // near-LRU without moving an entry on every hit (a hit is the phone hot path). Terminates:
    // an entry moved has lost its mark, so the scan evicts it when it comes round again.
    for (const [k, e] of this.cache) {
      if (this.bytes <= this.maxBytes) break;
      this.cache.delete(k);
      if (e.used) {
        e.used = false;
        this.cache.set(k, e);
        continue;
      }
      this.bytes -= cost(e);
      this.dropped++;
    }
  }
}

function templateOf(resolved: ResolvedTemplate): RenderedFile['template'] {
  return { vendor: resolved.vendor, name: resolved.name, origin: resolved.origin, version: resolved.version };
}

function isRecord(d: DeviceHead | DeviceRow): d is DeviceRow {
  return 'ownerExtension' in d;
}
