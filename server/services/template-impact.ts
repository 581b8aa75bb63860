/**
 * What a template change does to phones: for each device of a vendor, the text it gets now and
 * the text it would get after the change. Devices are grouped by model so the template each
 * model resolves to is looked up (and compiled) once; a device's view is built once and
 * rendered with both; models whose template source does not change are skipped unread.
 */
import type { DeviceRecord, DeviceStore } from '../../db/stores/devices.js';
import type { DeviceView } from '../domain/types.js';
import { getVendor } from '../../vendors/registry.js';
import type { DeviceViewBuilder } from './device-view.js';
import type { CompiledTemplate } from './template-engine.js';
import { renderChecked } from './template-check.js';

/** The template a device of some model would render with (null: no template, the file 404s). */
export interface Resolution {
  source: string;
  compiled: CompiledTemplate;
}

export type ResolveFn = (model: string | null) => Resolution | null;

export interface DeviceImpact {
  device: DeviceRecord;
  before: string | null;
  after: string | null;
  changed: boolean;
}

/** Shown instead of secrets in previews and diffs, so admins see where a password goes, not what it is. */
export const MASK = '********';

const ALL = Number.MAX_SAFE_INTEGER;

export function maskView(view: DeviceView): DeviceView {
  return {
    ...view,
    line: view.line && { ...view.line, password: MASK },
    provisioning: { ...view.provisioning, password: view.provisioning.password === null ? null : MASK },
  };
}

export class TemplateImpact {
  constructor(
    private readonly devices: DeviceStore,
    private readonly views: DeviceViewBuilder,
  ) {}

  /** Devices of `vendor` to consider: all of them, or the one named. */
  devicesOf(vendor: string): DeviceRecord[] {
    return this.devices.list({ vendor }, ALL, 0);
  }

  /**
   * Before/after text for each device whose template source differs. A render that fails with
   * the new template refuses the change (400 naming the device); one that failed before just
   * counts as "changed" (the phone gets a working file now).
   */
  *compare(devices: Iterable<DeviceRecord>, before: ResolveFn, after: ResolveFn, opts: { mask?: boolean } = {}): Generator<DeviceImpact> {
    const pairs = new Map<string, { before: Resolution | null; after: Resolution | null }>();
    for (const device of devices) {
      const key = device.model ?? '';
      let pair = pairs.get(key);
      if (!pair) {
        pair = { before: before(device.model), after: after(device.model) };
        pairs.set(key, pair);
      }
      if ((pair.before?.source ?? null) === (pair.after?.source ?? null)) continue;
      const adapter = getVendor(device.vendor);
      if (!adapter) continue;
      const raw = this.views.build(device);
      const view = adapter.buildView(opts.mask ? maskView(raw) : raw);
      const newText = pair.after ? renderChecked(pair.after.compiled, view, `device ${device.mac}`) : null;
      let oldText: string | null = null;
      if (pair.before) {
        try {
          oldText = pair.before.compiled.render(view);
        } catch {
          // The current template does not render for this device; the new one does: that is a change.
          oldText = null;
        }
      }
      yield { device, before: oldText, after: newText, changed: oldText !== newText };
    }
  }

  /**
   * Whether a common-view template renders differently, for no family and for every firmware
   * family the vendor's phones reported (the first dotted group of their firmware version).
   */
  commonChanged(vendor: string, devices: readonly DeviceRecord[], before: Resolution | null, after: Resolution | null): boolean {
    if ((before?.source ?? null) === (after?.source ?? null)) return false;
    if (!before || !after) return true;
    const adapter = getVendor(vendor);
    if (!adapter) return false;
    const families = new Set<string | null>([null]);
    for (const d of devices) {
      const major = d.lastFetch?.firmware?.split('.')[0];
      if (major) families.add(major);
    }
    for (const family of families) {
      const view = adapter.buildCommonView(this.views.common(family));
      const next = renderChecked(after.compiled, view, 'common');
      let prev: string | null = null;
      try {
        prev = before.compiled.render(view);
      } catch {
        prev = null;
      }
      if (prev !== next) return true;
    }
    return false;
  }
}
