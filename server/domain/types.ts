import type { Mac } from './mac.js';

export type DeviceState = 'owner' | 'guest' | 'unassigned';
export type SipTransport = 'udp' | 'tcp' | 'tls';

/**
 * Everything a template may know about one device, before vendor escaping.
 * Every key is always present (null where it does not apply) so templates can
 * be compiled in Handlebars strict mode and still test `{{#if line}}`.
 */
export interface DeviceView {
  device: { mac: Mac; vendor: string; model: string | null; label: string | null };
  location: { name: string; emergencyNumbers: string[]; callbackNumber: string | null; address: string | null } | null;
  state: DeviceState;
  /** The line the phone registers with: the owner's when `owner`, the guest's when `guest`, null when `unassigned`. */
  line: { extension: string; displayName: string; authUser: string; password: string; label: string } | null;
  pbx: { host: string; port: number; transport: SipTransport; outboundProxy: string | null };
  provisioning: {
    baseUrl: string;
    /** Download credentials handed to the phone so it keeps authenticating (null when download auth is off). */
    username: string | null;
    password: string | null;
  };
  hotdesk: {
    enabled: boolean;
    loginUrl: string;
    logoutUrl: string;
    /** ISO-8601 end of the guest session, null when not a guest or no timeout. */
    sessionEndsAt: string | null;
  };
  time: { zone: string; ntpServer: string };
}

/** The view for files that do not belong to one device (Yealink common file, Polycom default master). */
export interface CommonView {
  pbx: DeviceView['pbx'];
  provisioning: { baseUrl: string };
  time: DeviceView['time'];
  /** Yealink firmware family (e.g. "108") or null. */
  family: string | null;
}
