/**
 * The contract every vendor adapter fulfils. A new vendor is a folder under
 * vendors/ exporting a VendorAdapter plus one line in vendors/registry.ts.
 * Adapters are pure: no I/O beyond reading their default templates at load.
 */
import type { Mac } from '../server/domain/mac.js';
import type { CommonView, DeviceView } from '../server/domain/types.js';

export type FileFormat = 'keyvalue' | 'xml';

/** What a User-Agent tells us. Any field may be missing. */
export interface UserAgentInfo {
  vendor: string;
  model: string | null;
  firmware: string | null;
  mac: Mac | null;
}

/**
 * The kinds of file a phone asks for.
 * - `device`:   rendered per device from a template (needs a known MAC)
 * - `common`:   rendered without a device (Yealink y0000000000XX.cfg, Sangoma P 000000000000.cfg)
 * - `upload`:   stored bytes the phone PUTs and GETs back (Polycom overrides, directory, call lists)
 * - `log`:      append-only upload (Polycom boot/app logs); GET is 404
 */
export type FileKind = 'device' | 'common' | 'upload' | 'log';

export interface FileMatch {
  vendor: string;
  kind: FileKind;
  /** Template name for `device` and `common` files (e.g. "device", "master", "common", "boot"). */
  template: string | null;
  /** MAC named by the file, null for common files. */
  mac: Mac | null;
  /** For `upload`/`log`: the stored file name key, e.g. "phone.cfg", "app.log". */
  slot: string | null;
  /** Yealink firmware family from y0000000000XX.cfg. */
  family: string | null;
  /** Whether a missing template means 404 (true for optional files like Yealink .boot). */
  optional: boolean;
}

export interface TemplateInfo {
  /** e.g. "device", "master", "common", "boot"; model variants are "device.T46U". */
  name: string;
  /** Which view it is rendered with. */
  view: 'device' | 'common';
  /** Default template text shipped with deskprov (null: no default, file 404s until an override exists). */
  source: string | null;
  format: FileFormat;
  /** Expected root element for XML formats. */
  rootElement: string | null;
}

export interface LintProblem {
  line: number;
  reason: string;
}

export interface VendorAdapter {
  readonly id: string;
  readonly displayName: string;
  /** OUI prefixes (6 lowercase hex) that hint this vendor for unknown MACs. */
  readonly ouis: readonly string[];
  /** Content-Type of rendered config files. */
  readonly contentType: string;
  /** Default SIP Event header for check-sync NOTIFY. */
  readonly notifyEvent: string;
  readonly templates: readonly TemplateInfo[];
  /**
   * Files a device of this vendor uploads with PUT, by slot (`<mac>-<slot>`): `upload` files it
   * reads back, `log` files it only appends to. Admins read them through the API.
   */
  readonly uploadSlots?: Readonly<Record<string, 'upload' | 'log'>>;

  /** Parse an HTTP User-Agent; null when it is not this vendor's. Must be linear time and never throw. */
  parseUserAgent(ua: string): UserAgentInfo | null;
  /** Match a request file name (no leading slash, already URL-decoded and validated as a plain name). */
  matchFile(name: string): FileMatch | null;
  /** The file names a device of this vendor fetches for its config (used for ETags, cache warmup, docs). */
  deviceFiles(mac: Mac): string[];
  /** Escape every value for this vendor's format and add vendor-specific derived fields. */
  buildView(view: DeviceView): Record<string, unknown>;
  buildCommonView(view: CommonView): Record<string, unknown>;
  /** Check a rendered file for this vendor's format. Empty array = fine. */
  lint(rendered: string, template: TemplateInfo): LintProblem[];
}
