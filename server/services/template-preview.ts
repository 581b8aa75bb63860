/**
 * Looking before saving: render a candidate template for one device (or a sample), and diff
 * what phones get now against what they would get with the candidate. Nothing is stored.
 * Secrets (SIP and download passwords) are masked in everything shown.
 */
import { createTwoFilesPatch } from 'diff';
import type { DeviceRecord, DeviceStore } from '../../db/stores/devices.js';
import type { Mac } from '../domain/mac.js';
import type { DeviceState } from '../domain/types.js';
import { invalid, notFound } from '../errors.js';
import { sampleViews } from '../../vendors/sample.js';
import type { DeviceViewBuilder } from './device-view.js';
import { checkTemplate, renderChecked, type TemplateTarget } from './template-check.js';
import type { TemplateCatalog } from './template-catalog.js';
import { maskView, type Resolution, type TemplateImpact } from './template-impact.js';

export interface DeviceDiff {
  mac: Mac;
  changed: boolean;
  diff: string;
}

export interface VendorDiff {
  /** Devices whose config would change. */
  affected: number;
  /** Devices that render with this template (changed or not). */
  considered: number;
  /** Up to `SAMPLE` of the considered devices, changed ones first. */
  devices: DeviceDiff[];
  /** Devices of the vendor; more than `considered` when the diff stopped at its time budget. */
  total: number;
  /** True when the diff stopped at its time budget before every device was rendered. */
  partial: boolean;
  /** For templates rendered without a device (e.g. the Yealink common file). */
  common?: { changed: boolean; diff: string };
}

const SAMPLE = 20;
/**
 * Wall time a diff over every device may take. It renders each device twice on the event loop
 * that answers phones, and a readonly token may ask for it: past this, it answers with what it
 * has (partial) instead of holding the loop for as long as the fleet is large.
 */
export const DIFF_BUDGET_MS = 2000;

export function unifiedDiff(label: string, before: string | null, after: string | null): string {
  return createTwoFilesPatch(`${label} (now)`, `${label} (candidate)`, before ?? '', after ?? '', undefined, undefined, { context: 3 });
}

export class TemplatePreview {
  constructor(
    private readonly devices: DeviceStore,
    private readonly catalog: TemplateCatalog,
    private readonly views: DeviceViewBuilder,
    private readonly impact: TemplateImpact,
    /** Monotonic milliseconds (the diff's time budget). */
    private readonly elapsed: () => number = () => performance.now(),
  ) {}

  /** The candidate rendered for a device (or a sample device in `state` when no MAC is given). */
  render(t: TemplateTarget, source: string, mac: Mac | null, state: DeviceState = 'owner'): string {
    const compiled = checkTemplate(t.adapter, t.info, t.name, source);
    if (t.info.view === 'common') {
      const device = mac ? this.deviceOf(t, mac) : null;
      return renderChecked(compiled, t.adapter.buildCommonView(this.views.common(familyOf(device))), 'common');
    }
    if (!mac) {
      const view = sampleViews(t.vendor)[state];
      if (t.model !== null) view.device.model = t.model;
      return renderChecked(compiled, t.adapter.buildView(view), state);
    }
    const device = this.deviceOf(t, mac);
    return renderChecked(compiled, t.adapter.buildView(maskView(this.views.build(device))), `device ${mac}`);
  }

  /** Unified diff for one device: its config now vs. with the candidate in place. */
  diffDevice(t: TemplateTarget, source: string, mac: Mac): DeviceDiff {
    const compiled = checkTemplate(t.adapter, t.info, t.name, source);
    const device = this.deviceOf(t, mac);
    const candidate: Resolution = { source, compiled };
    if (t.info.view === 'common') {
      const common = this.commonDiff(t, candidate, familyOf(device));
      return { mac, ...common };
    }
    for (const d of this.impact.compare([device], this.now(t), this.withCandidate(t, candidate), { mask: true })) {
      return { mac, changed: d.changed, diff: unifiedDiff(mac, d.before, d.after) };
    }
    return { mac, changed: false, diff: '' };
  }

  /** What the candidate does to every device of the vendor, with a sample of diffs. */
  diffAll(t: TemplateTarget, source: string): VendorDiff {
    const compiled = checkTemplate(t.adapter, t.info, t.name, source);
    const candidate: Resolution = { source, compiled };
    const all = this.impact.devicesOf(t.vendor);
    if (t.info.view === 'common') {
      const common = this.commonDiff(t, candidate, null);
      const changed = this.impact.commonChanged(t.vendor, all, this.now(t)(null), candidate);
      return { affected: changed ? all.length : 0, considered: all.length, devices: [], common, total: all.length, partial: false };
    }
    let affected = 0;
    let considered = 0;
    let partial = false;
    const changed: DeviceDiff[] = [];
    const unchanged: DeviceDiff[] = [];
    const deadline = this.elapsed() + DIFF_BUDGET_MS;
    for (const d of this.impact.compare(all, this.now(t), this.withCandidate(t, candidate), { mask: true })) {
      considered++;
      if (d.changed) affected++;
      const bucket = d.changed ? changed : unchanged;
      if (bucket.length < SAMPLE) bucket.push({ mac: d.device.mac, changed: d.changed, diff: d.changed ? unifiedDiff(d.device.mac, d.before, d.after) : '' });
      if (this.elapsed() > deadline) {
        partial = true;
        break;
      }
    }
    return { affected, considered, devices: [...changed, ...unchanged].slice(0, SAMPLE), total: all.length, partial };
  }

  private commonDiff(t: TemplateTarget, candidate: Resolution, family: string | null): { changed: boolean; diff: string } {
    const view = t.adapter.buildCommonView(this.views.common(family));
    const after = renderChecked(candidate.compiled, view, 'common');
    const current = this.now(t)(null);
    let before: string | null = null;
    try {
      before = current ? current.compiled.render(view) : null;
    } catch {
      before = null;
    }
    return { changed: before !== after, diff: before === after ? '' : unifiedDiff(`${t.vendor}/${t.name}`, before, after) };
  }

  private now(t: TemplateTarget): (model: string | null) => Resolution | null {
    return (model) => this.catalog.resolve(t.vendor, t.base, model);
  }

  /**
   * What a device of `model` would render with once the candidate is stored as an override of
   * `t.name`: a stored override wins over files and defaults, and a model's own variant wins
   * over the base name.
   */
  private withCandidate(t: TemplateTarget, candidate: Resolution): (model: string | null) => Resolution | null {
    return (model) => {
      const current = this.catalog.resolve(t.vendor, t.base, model);
      const variant = model ? `${t.base}.${model.replace(/[^A-Za-z0-9_-]/g, '')}` : null;
      if (t.name === variant) return candidate;
      if (t.name !== t.base) return current;
      const ownVariant = current !== null && current.origin === 'override' && current.name !== t.base;
      return ownVariant ? current : candidate;
    };
  }

  private deviceOf(t: TemplateTarget, mac: Mac): DeviceRecord {
    const device = this.devices.get(mac);
    if (!device) throw notFound(`device ${mac}`);
    if (device.vendor !== t.vendor) throw invalid(`device ${mac} is a ${device.vendor} phone, not ${t.vendor}`);
    return device;
  }
}

/** The firmware family a device last reported (first dotted group of its firmware), if any. */
function familyOf(device: DeviceRecord | null): string | null {
  return device?.lastFetch?.firmware?.split('.')[0] ?? null;
}
