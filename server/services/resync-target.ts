/**
 * Where and how one device's resync NOTIFY goes (CONTRACT §4): pure over the device record,
 * the credentials of the line it last fetched and the SIP settings. No I/O.
 */
import type { DeviceRecord } from '../../db/stores/devices.js';
import type { NotifyRequest, NotifyTarget } from '../sip/notifier.js';
import { isSipHost, isSipUser, parseSipUri } from '../sip/uri.js';
import { getVendor } from '../../vendors/registry.js';

export interface TargetSettings {
  /** Phone SIP port when the device has no sipContact. */
  phonePort: number;
  /** `sip.events`: per-vendor Event overrides. */
  events: Readonly<Record<string, string | undefined>>;
  /** `sip.outboundProxy`, parsed; null: straight to the phone. */
  proxy: NotifyTarget | null;
}

export type NotifyPlan =
  | { ok: true; request: NotifyRequest; target: string }
  | { ok: false; problem: string };

export const DEFAULT_EVENT = 'check-sync';

/** The Event header for a vendor: config override first, then the adapter's, then plain check-sync. */
export function eventFor(vendor: string, events: TargetSettings['events']): string {
  return events[vendor] ?? getVendor(vendor)?.notifyEvent ?? DEFAULT_EVENT;
}

/** `udp:10.0.0.5:5060`, `[::1]` bracketed; used in notify_log and logs. */
export function describeTarget(t: NotifyTarget): string {
  return `${t.transport}:${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}

/** Parses `sip.outboundProxy` (`sip:pbx.example.com:5060;transport=tcp`); null when it is not a SIP URI. */
export function parseProxy(uri: string): NotifyTarget | null {
  const u = parseSipUri(uri);
  return u ? { host: u.host, port: u.port, transport: u.transport } : null;
}

/**
 * The NOTIFY for a device: to its sipContact, else to the address of its last config fetch on
 * `phonePort` over UDP. Request-URI user: the line the phone last fetched, else "anonymous".
 * `credentials` are that same line's (the one the phone is registered with now), never the new one.
 */
export function planNotify(
  d: DeviceRecord,
  credentials: { username: string; password: string } | null,
  s: TargetSettings,
): NotifyPlan {
  let target: NotifyTarget | null = null;
  if (d.sipContact !== null) {
    const uri = parseSipUri(d.sipContact);
    if (uri === null) return { ok: false, problem: 'no target: sipContact is not a usable SIP URI' };
    target = { host: uri.host, port: uri.port, transport: uri.transport };
  } else if (d.lastFetch !== null && d.lastFetch.ip !== '') {
    const ip = d.lastFetch.ip.startsWith('::ffff:') ? d.lastFetch.ip.slice(7) : d.lastFetch.ip;
    if (!isSipHost(ip)) return { ok: false, problem: 'no target: last fetch address is not an IP' };
    target = { host: ip, port: s.phonePort, transport: 'udp' };
  }
  if (target === null) return { ok: false, problem: 'no target: no sipContact and the phone never fetched its config' };

  const user = d.fetchedLineUser !== null && isSipUser(d.fetchedLineUser) ? d.fetchedLineUser : 'anonymous';
  const request: NotifyRequest = {
    target,
    user,
    event: eventFor(d.vendor, s.events),
    auth: credentials,
    proxy: s.proxy,
  };
  const label = s.proxy ? `${describeTarget(target)} via ${describeTarget(s.proxy)}` : describeTarget(target);
  return { ok: true, request, target: label };
}
