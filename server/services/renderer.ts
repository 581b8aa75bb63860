/**
 * Renders phone files and keeps the bytes. A cached render is served only while the device's
 * config_version and the template generation are the ones it was rendered for, so nothing
 * stale is ever served after a change is committed. The cache is an LRU bounded in bytes.
 */
import { createHash } from 'node:crypto';
import type { DeviceHead, DeviceRecord } from '../../db/stores/devices.js';
import { getVendor, vendors } from '../../vendors/registry.js';
import type { DeviceViewBuilder } from './device-view.js';
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

interface Entry {
  file: RenderedFile;
  configVersion: number;
  generation: number;
}

export interface RenderStats {
  hits: number;
  misses: number;
  entries: number;
  bytes: number;
}

/** Every template name a device file can render with, across vendors. */
const DEVICE_TEMPLATE_NAMES = [...new Set(vendors.flatMap((v) => v.templates.filter((t) => t.view === 'device').map((t) => t.name)))];

export function etagOf(body: Buffer): string {
  return `"${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`;
}

export class Renderer {
  private readonly cache = new Map<string, Entry>();
  private bytes = 0;
  readonly stats = { hits: 0, misses: 0 };
  /** Observed by metrics: seconds spent rendering. */
  onRender: (seconds: number, vendor: string) => void = () => {};

  constructor(
    private readonly catalog: TemplateCatalog,
    private readonly views: DeviceViewBuilder,
    private readonly maxBytes = 32 * 1024 * 1024,
  ) {}

  /**
   * The device's file for `template`, from cache when current: `device.configVersion` is the
   * config_version read for this request. On a miss the full record is needed to render: pass it,
   * or a loader (the phone hot path reads only the lean DeviceHead per request).
   */
  deviceFile(head: DeviceHead | DeviceRecord, template: string, load?: () => DeviceRecord | null): RenderedFile | null {
    const key = `${head.mac}/${template}`;
    const hit = this.cache.get(key);
    if (hit && hit.configVersion === head.configVersion && hit.generation === this.catalog.generation) {
      this.touch(key, hit);
      this.stats.hits++;
      return hit.file;
    }
    const resolved = this.catalog.resolve(head.vendor, template, head.model);
    // A file with no template (e.g. Yealink boot files) is a 404, not a cache miss.
    if (!resolved) return null;
    const device = load ? load() : isRecord(head) ? head : null;
    if (!device) return null;
    this.stats.misses++;
    const started = process.hrtime.bigint();
    const view = this.views.build(device);
    const file = this.renderWith(resolved, getVendor(device.vendor)!.buildView(view), device.configVersion);
    file.lineUser = view.line?.authUser ?? null;
    file.extension = view.line?.extension ?? null;
    this.onRender(Number(process.hrtime.bigint() - started) / 1e9, device.vendor);
    this.store(key, { file, configVersion: device.configVersion, generation: this.catalog.generation });
    return file;
  }

  /** A file that belongs to no device (Yealink common file, Polycom default master). */
  commonFile(vendor: string, template: string, family: string | null): RenderedFile | null {
    const key = `common:${vendor}/${template}/${family ?? ''}`;
    const hit = this.cache.get(key);
    if (hit && hit.generation === this.catalog.generation) {
      this.stats.hits++;
      return hit.file;
    }
    this.stats.misses++;
    const resolved = this.catalog.resolve(vendor, template, null);
    if (!resolved) return null;
    const file = this.renderWith(resolved, getVendor(vendor)!.buildCommonView(this.views.common(family)), null);
    this.store(key, { file, configVersion: 0, generation: this.catalog.generation });
    return file;
  }

  /** Render without touching the cache (previews, diffs). */
  renderUncached(device: DeviceRecord, resolved: ResolvedTemplate): string {
    const view = getVendor(device.vendor)!.buildView(this.views.build(device));
    return resolved.compiled.render(view);
  }

  /**
   * Drop a device's renders (or all). Called whenever its row changes: a version number alone is
   * not enough, since a device deleted and added again starts again at version 1.
   */
  forget(mac: string | null): void {
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
      this.bytes -= e.file.body.length;
    }
  }

  cacheStats(): RenderStats {
    return { ...this.stats, entries: this.cache.size, bytes: this.bytes };
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
      template: { vendor: resolved.vendor, name: resolved.name, origin: resolved.origin, version: resolved.version },
    };
  }

  private touch(key: string, entry: Entry): void {
    this.cache.delete(key);
    this.cache.set(key, entry);
  }

  private store(key: string, entry: Entry): void {
    const old = this.cache.get(key);
    if (old) {
      this.bytes -= old.file.body.length;
      this.cache.delete(key);
    }
    this.cache.set(key, entry);
    this.bytes += entry.file.body.length;
    for (const [k, e] of this.cache) {
      if (this.bytes <= this.maxBytes) break;
      this.cache.delete(k);
      this.bytes -= e.file.body.length;
    }
  }
}

function isRecord(d: DeviceHead | DeviceRecord): d is DeviceRecord {
  return 'ownerExtension' in d;
}
