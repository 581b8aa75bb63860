/**
 * Values several adapters derive from a raw DeviceView before escaping it: UTC offsets
 * (Intl only, no tz library), the hot-desk key, the place label, emergency numbers, and
 * host/port splitting. Pure functions.
 */
import type { DeviceView } from '../server/domain/types.js';

const offsetFormatters = new Map<string, Intl.DateTimeFormat | null>();

function formatterFor(zone: string): Intl.DateTimeFormat | null {
  let f = offsetFormatters.get(zone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    } catch {
      f = null; // RangeError: not a zone this runtime knows
    }
    if (offsetFormatters.size < 1000) offsetFormatters.set(zone, f);
  }
  return f;
}

/**
 * Offsets per (zone, quarter hour): Intl formatting costs tens of microseconds and every render
 * asks. Zone transitions happen at whole local minutes of zones whose offsets are multiples of
 * 15 minutes, i.e. on UTC quarter hours, so one quarter hour never straddles two offsets.
 */
const offsetMemo = new Map<string, number | null>();
const QUARTER_HOUR_MS = 15 * 60_000;
const MAX_MEMO = 4096;

/** `memo`'s value for `key`, computed once; a full memo starts again empty. */
function remembered<T>(memo: Map<string, T>, key: string, compute: () => T): T {
  let v = memo.get(key);
  if (v === undefined) {
    v = compute();
    if (memo.size >= MAX_MEMO) memo.clear();
    memo.set(key, v);
  }
  return v;
}

/** Minutes east of UTC for `zone` at `at` (e.g. -300 for New York in winter); null for an unknown zone. */
export function utcOffsetMinutes(zone: string, at: Date): number | null {
  return remembered(offsetMemo, `${zone}@${Math.floor(at.getTime() / QUARTER_HOUR_MS)}`, () => computeOffsetMinutes(zone, at));
}

function computeOffsetMinutes(zone: string, at: Date): number | null {
  const f = formatterFor(zone);
  if (!f) return null;
  const name = f.formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? '';
  if (name === 'GMT' || name === 'UTC') return 0;
  const m = /^GMT([+-])(\d{2}):(\d{2})$/.exec(name);
  if (!m) return null;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -minutes : minutes;
}

export interface ZoneOffset {
  /** Standard (winter) offset in minutes east of UTC. */
  standardMinutes: number;
  /** Whether the zone changes its offset during `year`. */
  observesDst: boolean;
}

const zoneMemo = new Map<string, ZoneOffset>();

/**
 * The standard offset of a zone and whether it has summer time, from 1 January and 1 July
 * of `year`: the smaller offset is the standard one in both hemispheres. Phones that take a
 * fixed offset plus their own DST rules (Yealink, Polycom) want exactly this. Unknown → UTC.
 */
export function zoneOffset(zone: string, year = new Date().getUTCFullYear()): ZoneOffset {
  return { ...remembered(zoneMemo, `${zone}@${year}`, () => computeZoneOffset(zone, year)) };
}

function computeZoneOffset(zone: string, year: number): ZoneOffset {
  const jan = utcOffsetMinutes(zone, new Date(Date.UTC(year, 0, 1, 12)));
  const jul = utcOffsetMinutes(zone, new Date(Date.UTC(year, 6, 1, 12)));
  if (jan === null || jul === null) return { standardMinutes: 0, observesDst: false };
  return { standardMinutes: Math.min(jan, jul), observesDst: jan !== jul };
}

/** One summer-time change of a zone, as phones that take their own rule fields want it. */
export interface DstChange {
  /** 1-12. */
  readonly month: number;
  /** Day of the month of this year's change, 1-31. */
  readonly day: number;
  /** 0 = Sunday ... 6 = Saturday. */
  readonly weekday: number;
  /** Which of the month's weekdays it is: 1 (days 1-7) to 5 (days 29-31). */
  readonly week: number;
  /** The month's last such weekday (within its last 7 days). */
  readonly last: boolean;
  /** Wall-clock hour at the change, in the offset in force before it (0-23). */
  readonly hour: number;
}

export interface DstRule {
  /** Summer time begins (the offset grows). */
  readonly start: DstChange;
  /** Summer time ends. */
  readonly stop: DstChange;
  /** Minutes added in summer (60 almost everywhere). */
  readonly savingMinutes: number;
}

const dstMemo = new Map<string, DstRule | null>();
const WEEK_MINUTES = 7 * 24 * 60;

/**
 * When `zone` enters and leaves summer time in `year`, found from Intl (a weekly walk through the
 * year, then a search to the minute). Phones whose default rules are the United States' (Polycom)
 * need these written out, or a European phone changes weeks early and a southern one in the
 * wrong season. null: no summer time, an unknown zone, or a year that is not one start and one
 * stop of the same size (a zone that moved its standard offset). Every render asks, so this is
 * the memo's own object, read-only, not a copy.
 */
export function dstRule(zone: string, year = new Date().getUTCFullYear()): DstRule | null {
  return remembered(dstMemo, `${zone}@${year}`, () => computeDstRule(zone, year));
}

function computeDstRule(zone: string, year: number): DstRule | null {
  const offsetAt = (minute: number) => computeOffsetMinutes(zone, new Date(minute * 60_000));
  const end = Date.UTC(year + 1, 0, 1) / 60_000;
  const changes: Array<{ at: number; before: number; after: number }> = [];
  let at = Date.UTC(year, 0, 1) / 60_000;
  let offset = offsetAt(at);
  while (offset !== null && at < end && changes.length <= 2) {
    const next = Math.min(at + WEEK_MINUTES, end);
    const then = offsetAt(next);
    if (then === null) return null;
    if (then !== offset) {
      // The first minute with the new offset (zones change at most twice a year, weeks apart).
      let lo = at;
      let hi = next;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (offsetAt(mid) === offset) lo = mid;
        else hi = mid;
      }
      changes.push({ at: hi, before: offset, after: then });
    }
    at = next;
    offset = then;
  }
  if (offset === null || changes.length !== 2) return null;
  const start = changes.find((c) => c.after > c.before);
  const stop = changes.find((c) => c.after < c.before);
  if (!start || !stop || start.after - start.before !== stop.before - stop.after) return null;
  return { start: changeOf(start), stop: changeOf(stop), savingMinutes: start.after - start.before };
}

function changeOf(c: { at: number; before: number }): DstChange {
  const local = new Date((c.at + c.before) * 60_000); // the wall clock at the change, UTC getters
  const day = local.getUTCDate();
  const daysInMonth = new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth() + 1, 0)).getUTCDate();
  return {
    month: local.getUTCMonth() + 1,
    day,
    weekday: local.getUTCDay(),
    week: Math.floor((day - 1) / 7) + 1,
    last: day + 7 > daysInMonth,
    hour: local.getUTCHours(),
  };
}

/** `+1`, `-5`, `+5:30`, `-3:30`, `0`: the form of Yealink's local_time.time_zone. */
export function formatOffsetHours(minutes: number): string {
  if (minutes === 0) return '0';
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const h = Math.floor(abs / 60);
  const m = abs % 60;
  return m === 0 ? `${sign}${h}` : `${sign}${h}:${String(m).padStart(2, '0')}`;
}

/**
 * What the phone shows for this desk: device label and location name (`Desk 4.12 - HQ 4th
 * floor`), either one alone, else the MAC. The device label comes first, so a short display
 * that truncates still shows it.
 */
export function placeLabel(view: DeviceView): string {
  const parts = [view.device.label, view.location?.name].filter((p): p is string => typeof p === 'string' && p.trim() !== '');
  return parts.length > 0 ? parts.join(' - ') : view.device.mac;
}

export interface HotdeskKey {
  label: 'Login' | 'Logout';
  url: string;
}

/**
 * The key a config carries: Logout for a guest (even if hot desking was switched off
 * mid-session, so the guest can still leave), Login for owner/unassigned when enabled.
 */
export function hotdeskKey(view: DeviceView): HotdeskKey | null {
  if (view.state === 'guest') return { label: 'Logout', url: view.hotdesk.logoutUrl };
  if (view.hotdesk.enabled) return { label: 'Login', url: view.hotdesk.loginUrl };
  return null;
}

/**
 * Emergency numbers fit for dial plans and comma lists: digits, `*` and `#` only, no
 * duplicates, at most 10. Anything else is dropped rather than allowed to break the syntax.
 */
export function dialableNumbers(numbers: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of numbers) {
    const n = raw.trim();
    if (/^[0-9*#]{1,20}$/.test(n) && !out.includes(n)) out.push(n);
    if (out.length === 10) break;
  }
  return out;
}

export interface EmergencyInfo {
  numbers: string[];
  /** Comma separated (`911,112`). */
  list: string;
  /** Number sent as caller identity on emergency calls, null when the location has none. */
  callback: string | null;
  /** User part for account-less emergency calls: the callback number, else "emergency". */
  user: string;
}

export function emergencyInfo(view: DeviceView): EmergencyInfo | null {
  const numbers = dialableNumbers(view.location?.emergencyNumbers ?? []);
  if (numbers.length === 0) return null;
  const callback = view.location?.callbackNumber ?? null;
  return { numbers, list: numbers.join(','), callback, user: callback ?? 'emergency' };
}

export interface HostPort {
  host: string;
  port: number | null;
}

/**
 * `proxy.example.com`, `proxy.example.com:5060`, `sip:10.0.0.1:5070;transport=tcp`,
 * `[2001:db8::1]:5060` → host and port; null when nothing usable remains.
 */
export function splitHostPort(value: string | null): HostPort | null {
  if (value === null) return null;
  let s = value.trim().replace(/^sips?:/i, '');
  const semi = s.indexOf(';');
  if (semi >= 0) s = s.slice(0, semi);
  const at = s.lastIndexOf('@');
  if (at >= 0) s = s.slice(at + 1);
  let host = s;
  let port: number | null = null;
  const bracket = /^(\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/.exec(s);
  const plain = /^([^:\s]+)(?::(\d{1,5}))?$/.exec(s);
  const m = bracket ?? plain;
  if (!m) return null;
  host = m[1] ?? '';
  if (m[2] !== undefined) {
    port = Number(m[2]);
    if (port < 1 || port > 65535) return null;
  }
  return host === '' ? null : { host, port };
}

/** The provisioning base URL split the way Polycom wants it (no scheme in serverName). */
export function urlParts(baseUrl: string): { scheme: 'http' | 'https'; hostAndPath: string } {
  try {
    const u = new URL(baseUrl);
    const scheme = u.protocol === 'https:' ? 'https' : 'http';
    let hostAndPath = `${u.host}${u.pathname}`;
    while (hostAndPath.endsWith('/')) hostAndPath = hostAndPath.slice(0, -1);
    return { scheme, hostAndPath };
  } catch {
    return { scheme: 'http', hostAndPath: baseUrl };
  }
}

/** The base URL with download credentials embedded (`https://user:pass@host/`), percent-encoded. */
export function urlWithCredentials(baseUrl: string, username: string | null, password: string | null): string {
  if (username === null) return baseUrl;
  try {
    const u = new URL(baseUrl);
    u.username = username;
    u.password = password ?? '';
    return u.toString();
  } catch {
    return baseUrl;
  }
}
