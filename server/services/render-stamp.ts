/**
 * The stamp of a stored render: equal only when a render now would give the same bytes, given
 * the same device row (config_version is compared beside it). It combines
 *  - the resolved template's fingerprint (vendor, name, origin, source text),
 *  - every config value a render reads (DeviceViewBuilder.renderInputs),
 *  - what the vendor adapters derive from the runtime: the zone's standard offset and DST this
 *    year, and its summer-time rule (adapters compute them from Intl and the current year),
 *  - RENDER_CODE_VERSION and the package version, for changes in adapters, views or helpers.
 * Everything a render reads from the database (device, owner or guest, session, location,
 * download credentials) is covered by the device's config_version: every change to it goes
 * through ChangeTracker.changed, which bumps it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dstRule, zoneOffset, type DstChange } from '../../vendors/derive.js';
import { projectPath } from '../project.js';
import type { ResolvedTemplate } from './template-catalog.js';

/**
 * Bump whenever adapters, device views, escaping or template helpers change rendered bytes.
 * 2: Polycom and Yealink files carry the zone's summer-time rule.
 */
export const RENDER_CODE_VERSION = 2;

/** A summer-time change as rules go (the weekday, which of the month's, the hour): the same every year. */
const ruleOf = (c: DstChange) => [c.month, c.last ? 'last' : c.week, c.weekday, c.hour];

const PACKAGE_VERSION = (() => {
  try {
    const pkg = JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
})();

export interface StampInputs {
  renderInputs(): Record<string, unknown>;
}

export class RenderStamp {
  /** The year the config part is for: the zone's offsets and summer-time rule are that year's. */
  private year = NaN;
  private configPart = '';

  constructor(
    private readonly views: StampInputs,
    private readonly timeZone: string,
  ) {}

  /** The stamp for renders with `resolved` (cheap: two string joins once the config part is known). */
  of(resolved: Pick<ResolvedTemplate, 'fingerprint'>): string {
    return `${this.config()}.${resolved.fingerprint}`;
  }

  /**
   * The config part, recomputed when the year turns: adapters derive the zone's offsets and
   * summer-time rule for the current year (new tz data comes with a new process).
   */
  config(): string {
    const year = new Date().getUTCFullYear();
    if (year !== this.year) {
      this.year = year;
      const z = zoneOffset(this.timeZone, year);
      const dst = dstRule(this.timeZone, year);
      const rule = dst && [ruleOf(dst.start), ruleOf(dst.stop), dst.savingMinutes];
      const inputs = JSON.stringify([RENDER_CODE_VERSION, PACKAGE_VERSION, `${z.standardMinutes}/${z.observesDst}`, rule, this.views.renderInputs()]);
      this.configPart = createHash('sha1').update(inputs).digest('base64url').slice(0, 16);
    }
    return this.configPart;
  }
}
