/**
 * Templates as managed content: every save, reset and rollback is checked before it is stored,
 * kept as a version, audited, and resyncs exactly the devices whose rendered config changed —
 * all in one transaction, so a refused or failed change leaves phones on the old text.
 */
import type { Stores } from '../../db/stores/index.js';
import type { TemplateVersion } from '../../db/stores/templates.js';
import type { Mac } from '../domain/mac.js';
import { invalid, notFound } from '../errors.js';
import { getVendor, vendors } from '../../vendors/registry.js';
import type { Actor, AuditSink } from './audit.js';
import type { ChangeTracker } from './change-tracker.js';
import type { Clock } from './clock.js';
import type { DeviceViewBuilder } from './device-view.js';
import { checkTemplate, lintChecked, templateTarget, type TemplateTarget } from './template-check.js';
import type { TemplateCatalog, TemplateOrigin } from './template-catalog.js';
import { TemplateImpact, type Resolution } from './template-impact.js';
import { TemplatePreview } from './template-preview.js';

export interface TemplateListEntry {
  vendor: string;
  name: string;
  view: 'device' | 'common';
  format: string;
  /** "none": no text anywhere (e.g. Yealink boot files), the phone's request gets 404. */
  origin: TemplateOrigin | 'none';
  version: number;
  updatedAt: string | null;
  author: string | null;
}

export interface TemplateText {
  origin: TemplateOrigin;
  version: number;
  source: string;
}

export interface SaveResult {
  vendor: string;
  name: string;
  version: number;
  devicesChanged: number;
}

export interface ChangeMeta {
  actor: Actor;
  comment: string | null;
}

export function publicVersion(v: TemplateVersion) {
  return {
    version: v.version,
    author: v.author,
    comment: v.comment,
    createdAt: new Date(v.createdAt).toISOString(),
    size: v.body === null ? null : Buffer.byteLength(v.body, 'utf8'),
    restoresDefault: v.body === null,
  };
}

export class TemplateService {
  private readonly impact: TemplateImpact;
  readonly preview: TemplatePreview;

  constructor(
    private readonly s: Stores,
    private readonly catalog: TemplateCatalog,
    views: DeviceViewBuilder,
    private readonly changes: ChangeTracker,
    private readonly clock: Clock,
    private readonly audit: AuditSink,
  ) {
    this.impact = new TemplateImpact(s.devices, views);
    this.preview = new TemplatePreview(s.devices, catalog, views, this.impact);
  }

  target(vendor: string, name: string): TemplateTarget {
    return templateTarget(vendor, name, getVendor);
  }

  /** Every shipped template of every vendor, plus every stored override (model variants too). */
  list(): TemplateListEntry[] {
    const latest = new Map(this.s.templates.allLatest().map((v) => [`${v.vendor}/${v.name}`, v]));
    const out: TemplateListEntry[] = [];
    const entry = (vendor: string, name: string, view: 'device' | 'common', format: string): TemplateListEntry => {
      const text = this.catalog.sourceOf(vendor, name);
      const stored = latest.get(`${vendor}/${name}`);
      return {
        vendor,
        name,
        view,
        format,
        origin: text?.origin ?? 'none',
        version: stored?.version ?? 0,
        updatedAt: stored ? new Date(stored.createdAt).toISOString() : null,
        author: stored?.author ?? null,
      };
    };
    for (const adapter of vendors) {
      for (const t of adapter.templates) out.push(entry(adapter.id, t.name, t.view, t.format));
      const variants = [...latest.values()].filter((v) => v.vendor === adapter.id && v.name.includes('.')).map((v) => v.name);
      for (const name of [...new Set([...variants, ...this.catalog.fileNames(adapter.id)])].sort()) {
        if (out.some((e) => e.vendor === adapter.id && e.name === name)) continue;
        const info = this.catalog.infoFor(adapter.id, name);
        if (info) out.push(entry(adapter.id, name, info.view, info.format));
      }
    }
    return out;
  }

  /** The text in effect for exactly this name (no model → base fallback). */
  current(vendor: string, name: string): TemplateText {
    const t = this.target(vendor, name);
    const text = this.catalog.sourceOf(t.vendor, t.name);
    if (!text) throw notFound(`template text for ${vendor}/${name} (none shipped and no override)`);
    return text;
  }

  history(vendor: string, name: string): TemplateVersion[] {
    const t = this.target(vendor, name);
    return this.s.templates.history(t.vendor, t.name);
  }

  version(vendor: string, name: string, version: number): TemplateVersion {
    const t = this.target(vendor, name);
    const v = this.s.templates.get(t.vendor, t.name, version);
    if (!v) throw notFound(`version ${version} of template ${vendor}/${name}`);
    return v;
  }

  /** The text of a stored version, refusing versions that only restored the default. */
  versionText(vendor: string, name: string, version: number): string {
    const v = this.version(vendor, name, version);
    if (v.body === null) throw notFound(`text of version ${version} of ${vendor}/${name} (it restored the default)`);
    return v.body;
  }

  save(vendor: string, name: string, source: string, meta: ChangeMeta): SaveResult {
    const t = this.target(vendor, name);
    checkTemplate(t.adapter, t.info, t.name, source);
    return this.commit(t, source, meta, 'template.save');
  }

  /** Back to the file under templates/ or the shipped default: a new version with no text. */
  reset(vendor: string, name: string, meta: ChangeMeta): SaveResult {
    const t = this.target(vendor, name);
    const latest = this.s.templates.latest(t.vendor, t.name);
    if (!latest || latest.body === null) throw notFound(`override of template ${vendor}/${name}`);
    return this.commit(t, null, meta, 'template.reset');
  }

  rollback(vendor: string, name: string, version: number, meta: ChangeMeta): SaveResult {
    const t = this.target(vendor, name);
    const v = this.version(vendor, name, version);
    if (v.body !== null) checkTemplate(t.adapter, t.info, t.name, v.body);
    const comment = meta.comment ?? `rollback to v${version}`;
    return this.commit(t, v.body, { ...meta, comment }, 'template.rollback', version);
  }

  private commit(t: TemplateTarget, body: string | null, meta: ChangeMeta, action: string, from?: number): SaveResult {
    const devices = this.impact.devicesOf(t.vendor);
    // What each model renders with now, captured before the new version exists.
    const before = new Map<string, Resolution | null>();
    const resolveNow = (model: string | null) => this.catalog.resolve(t.vendor, t.base, model);
    if (t.info.view === 'device') for (const d of devices) if (!before.has(d.model ?? '')) before.set(d.model ?? '', resolveNow(d.model));
    const commonBefore = t.info.view === 'common' ? resolveNow(null) : null;
    const previous = this.s.templates.latest(t.vendor, t.name);
    try {
      return this.s.tx(() => {
        const version = this.s.templates.insert({
          vendor: t.vendor,
          name: t.name,
          body,
          author: meta.actor.name,
          comment: meta.comment,
          createdAt: this.clock.now(),
        });
        this.catalog.invalidate();
        const changed: Mac[] = [];
        if (t.info.view === 'common') {
          if (this.impact.commonChanged(t.vendor, devices, commonBefore, resolveNow(null))) changed.push(...devices.map((d) => d.mac));
        } else {
          for (const d of this.impact.compare(devices, (m) => before.get(m ?? '') ?? null, resolveNow)) {
            if (!d.changed) continue;
            // Samples passed; a real phone's data must also give a well-formed file.
            if (d.after !== null) lintChecked(t.adapter, t.info, d.after, `device ${d.device.mac}`);
            changed.push(d.device.mac);
          }
        }
        const devicesChanged = this.changes.changed(changed, `template ${t.vendor}/${t.name} v${version}`);
        this.audit.record({
          actor: meta.actor,
          action,
          target: `template:${t.vendor}/${t.name}`,
          before: { version: previous?.version ?? 0, restoresDefault: previous ? previous.body === null : true },
          after: {
            version,
            restoresDefault: body === null,
            size: body === null ? null : Buffer.byteLength(body, 'utf8'),
            comment: meta.comment,
            devicesChanged,
            ...(from !== undefined ? { rolledBackTo: from } : {}),
          },
        });
        return { vendor: t.vendor, name: t.name, version, devicesChanged };
      });
    } catch (e) {
      // Anything resolved against the rolled-back version must not be served.
      this.catalog.invalidate();
      throw e;
    }
  }

  /** Rejects a comment that could not be shown on one line. */
  static comment(raw: unknown): string | null {
    if (raw === undefined || raw === null || raw === '') return null;
    if (typeof raw !== 'string' || raw.length > 500 || /[\u0000-\u001f\u007f]/.test(raw)) {
      throw invalid('comment: up to 500 characters on one line');
    }
    return raw;
  }
}
