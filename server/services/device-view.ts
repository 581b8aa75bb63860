/**
 * Builds the raw (unescaped) DeviceView for a device from the stores: who its line belongs
 * to right now (guest, else owner, else nobody), its location, PBX and provisioning settings.
 */
import type { DeviceRow } from '../../db/stores/devices.js';
import type { ActiveSessionPart, LineUser, ViewPartStore, ViewParts } from '../../db/stores/view-parts.js';
import type { Config } from '../config.js';
import { sessionEndsAt } from '../domain/hotdesk-policy.js';
import type { CommonView, DeviceState, DeviceView } from '../domain/types.js';

export interface ViewStores {
  viewParts: ViewPartStore;
}

/** Download credentials the phone is told to use (filled in by download auth, null when off). */
export type CredentialSource = (device: DeviceRow) => { username: string; password: string } | null;

export class DeviceViewBuilder {
  constructor(
    private readonly stores: ViewStores,
    private readonly config: Config,
    private readonly credentials: CredentialSource = () => null,
    /** The key a guest's Logout URL carries (server/services/logout-keys.ts). */
    private readonly logoutKey: (session: ActiveSessionPart) => string | null = () => null,
  ) {}

  /** A device's row and its view's parts, in one read (what a render on request needs). */
  source(mac: string): { device: DeviceRow; parts: ViewParts } | null {
    return this.stores.viewParts.withDevice(mac);
  }

  /**
   * The view of `device` (the row as given) with its session, users and location as they are now,
   * or as read with the row (`parts`, ViewPartStore.withDevice).
   */
  build(device: DeviceRow, parts: ViewParts = this.stores.viewParts.of(device)): DeviceView {
    const { session, guest, owner, location } = parts;
    const lineUser = guest ?? owner;
    const state: DeviceState = guest ? 'guest' : owner ? 'owner' : 'unassigned';
    const base = this.config.provisioning.baseUrl;
    const creds = this.credentials(device);
    return {
      device: { mac: device.mac, vendor: device.vendor, model: device.model, label: device.label },
      location: location
        ? {
            name: location.name,
            emergencyNumbers: location.emergencyNumbers,
            callbackNumber: location.callbackNumber,
            address: location.address,
          }
        : null,
      state,
      line: lineUser ? lineOf(lineUser) : null,
      pbx: this.pbx(),
      provisioning: { baseUrl: base, username: creds?.username ?? null, password: creds?.password ?? null },
      hotdesk: {
        enabled: device.hotdeskEnabled,
        loginUrl: `${base}phone/${device.vendor}/${device.mac}/login`,
        logoutUrl: logoutUrlOf(`${base}phone/${device.vendor}/${device.mac}/logout`, guest && session ? this.logoutKey(session) : null),
        sessionEndsAt: isoOrNull(guest && session ? this.sessionEndsAt(session) : null),
      },
      time: { zone: this.config.provisioning.timeZone, ntpServer: this.config.provisioning.ntpServer },
    };
  }

  /** When `session` ends under this config: its timeout or the daily logout, whichever first. */
  sessionEndsAt(session: Pick<ActiveSessionPart, 'startedAt' | 'endsAt'>): number | null {
    return sessionEndsAt(session, this.config.hotdesk.dailyLogoutAt, this.config.provisioning.timeZone);
  }

  /**
   * Every config value a render reads, through this builder or its credential source. Stored
   * renders are stamped with it (server/services/render-stamp.ts): a key read here but missing
   * from this list would let a restart with a changed config serve stale files.
   */
  renderInputs(): Record<string, unknown> {
    const { baseUrl, timeZone, ntpServer } = this.config.provisioning;
    return {
      baseUrl,
      timeZone,
      ntpServer,
      pbx: this.pbx(),
      // The credential source writes credentials into configs unless the site default is off.
      downloadAuthDefault: this.config.security.downloadAuth.defaultMode,
      // A guest's sessionEndsAt is the daily logout when that comes first.
      dailyLogoutAt: this.config.hotdesk.dailyLogoutAt,
    };
  }

  common(family: string | null): CommonView {
    return {
      pbx: this.pbx(),
      provisioning: { baseUrl: this.config.provisioning.baseUrl },
      time: { zone: this.config.provisioning.timeZone, ntpServer: this.config.provisioning.ntpServer },
      family,
    };
  }

  private pbx(): DeviceView['pbx'] {
    const { host, port, transport } = this.config.pbx;
    return { host, port, transport, outboundProxy: this.config.sip.outboundProxy };
  }
}

function lineOf(u: LineUser): NonNullable<DeviceView['line']> {
  return {
    extension: u.extension,
    displayName: u.displayName,
    authUser: u.sipUsername,
    password: u.sipPassword,
    label: u.displayName || u.extension,
  };
}

function logoutUrlOf(url: string, key: string | null): string {
  return key === null ? url : `${url}?k=${key}`;
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
