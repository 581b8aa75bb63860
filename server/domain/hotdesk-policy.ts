/**
 * Hot-desk decisions that span devices, and the daily logout clock. Pure: no I/O, the clock
 * is a parameter.
 *
 * Call `decideLogin` only when the device-state transition would start a session (its effects
 * hold `start-session`): a login that is a no-op on the target (same guest, the owner at their
 * own phone) must not displace anything elsewhere.
 */

export type MultipleLogin = 'logout-previous' | 'deny' | 'allow';

export interface HotdeskPolicy {
  multipleLogin: MultipleLogin;
  /** Only read with `allow`; values below 1 count as 1. */
  maxDevicesPerUser: number;
}

export interface ActiveSession<M extends string = string> {
  mac: M;
  startedAt: number;
}

export type LoginDecision<M extends string = string> =
  | { allow: true; /** Devices whose session of this user ends with `displaced`, oldest first. */ displace: M[] }
  | { allow: false; reason: 'already-logged-in' | 'device-limit' };

/**
 * May the user start a session on `target`, given their active sessions? A session already on
 * `target` itself is not counted (logging in there again is idempotent).
 */
export function decideLogin<M extends string>(
  policy: HotdeskPolicy,
  sessions: readonly ActiveSession<M>[],
  target: M,
): LoginDecision<M> {
  const elsewhere = sessions.filter((s) => s.mac !== target);
  switch (policy.multipleLogin) {
    case 'logout-previous': {
      const oldestFirst = [...elsewhere].sort((a, b) => a.startedAt - b.startedAt || (a.mac < b.mac ? -1 : 1));
      return { allow: true, displace: [...new Set(oldestFirst.map((s) => s.mac))] };
    }
    case 'deny':
      return elsewhere.length > 0 ? { allow: false, reason: 'already-logged-in' } : { allow: true, displace: [] };
    case 'allow': {
      const limit = Math.max(1, Math.floor(policy.maxDevicesPerUser));
      return elsewhere.length >= limit ? { allow: false, reason: 'device-limit' } : { allow: true, displace: [] };
    }
  }
}

/** The most devices one user may be a guest on at once under `policy`. */
export function maxGuestDevices(policy: HotdeskPolicy): number {
  return policy.multipleLogin === 'allow' ? Math.max(1, Math.floor(policy.maxDevicesPerUser)) : 1;
}

// ---- daily logout --------------------------------------------------------------------------

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23',
      year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall-clock time at `instant` in `timeZone`, as if that wall clock were UTC (epoch ms, whole seconds). */
function wallClock(instant: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatterFor(timeZone).formatToParts(instant)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const get = (k: string): number => parts[k] ?? 0;
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
}

/** UTC offset (ms, local minus UTC) of `timeZone` at `instant`. */
function offsetAt(instant: number, timeZone: string): number {
  const whole = Math.floor(instant / 1000) * 1000;
  return wallClock(whole, timeZone) - whole;
}

/**
 * The instant a local wall time happens, like Temporal's "compatible" disambiguation: a time
 * that happens twice (clocks go back) resolves to the first; a time that does not exist (clocks
 * go forward) resolves to the same distance past the jump (02:30 in a 02:00→03:00 gap → 03:30).
 */
function resolveWall(wall: number, timeZone: string): number {
  const before = offsetAt(wall - DAY_MS, timeZone);
  const after = offsetAt(wall + DAY_MS, timeZone);
  const valid = [...new Set([before, after])]
    .map((offset) => wall - offset)
    .filter((t) => wall - offsetAt(t, timeZone) === t);
  return valid.length > 0 ? Math.min(...valid) : wall - before;
}

/**
 * The next instant strictly after `now` at which the local time in `timeZone` is `hhmm`
 * ("HH:MM", 24-hour). At most once per local calendar day, even on the day clocks go back.
 * Throws RangeError on a malformed `hhmm` or an unknown time zone (config validates both).
 */
export function nextDailyLogout(now: number, hhmm: string, timeZone: string): number {
  const m = HHMM.exec(hhmm);
  if (!m) throw new RangeError(`daily logout time must be "HH:MM", got "${hhmm}"`);
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  const today = wallClock(now, timeZone);
  const midnight = today - (((today % DAY_MS) + DAY_MS) % DAY_MS);
  for (let day = 0; day < 3; day++) {
    const candidate = resolveWall(midnight + day * DAY_MS + minutes * 60_000, timeZone);
    if (candidate > now) return candidate;
  }
  // Unreachable for real zones (a local day is never longer than ~26h); keep the type total.
  return resolveWall(midnight + 3 * DAY_MS + minutes * 60_000, timeZone);
}

/**
 * When a session ends if nobody ends it first: its timeout (`endsAt`, null for none) or, with a
 * daily logout time, the first one after it started, whichever comes first (the sweep ends it
 * then, as 'daily'). What admins and the phone's config are shown.
 */
export function sessionEndsAt(session: { startedAt: number; endsAt: number | null }, dailyLogoutAt: string | null, timeZone: string): number | null {
  if (dailyLogoutAt === null) return session.endsAt;
  const daily = nextDailyLogout(session.startedAt, dailyLogoutAt, timeZone);
  return session.endsAt === null ? daily : Math.min(session.endsAt, daily);
}
