/**
 * The hot-desk state machine: one transition table, no I/O, the clock is a parameter.
 *
 * The state is derived from the snapshot (`stateOf`), never stored on its own. The hotdesk
 * service loads a snapshot, calls `transition`, saves `next` in one transaction, then runs
 * the effects. The sweep replays `expire` / `daily-logout` through the same function.
 *
 * Decisions (also in the report to the lead):
 * - Logout, expire, daily-logout, displace, owner-reclaim on a device without a matching guest
 *   are no-ops (`ok`, no effects): the goal state already holds, and phones double-press keys.
 * - A login by someone else on an occupied phone replaces the guest in the same transition; the
 *   old session ends with `displaced` (ended by another login, as on Yeastar/Swyx).
 * - A login by the device's owner while a guest sits there is `owner-reclaim`: the guest ends
 *   with `owner`, the owner's line comes back, and no session is started.
 * - A login by the owner at their own free phone, or by the guest already there, is an
 *   idempotent no-op. No session starts, so the caller must not displace anything elsewhere.
 * - Every login is refused while hot desking is off for the device.
 * - `set-hotdesk {enabled:false}` ends a guest's session with `admin`.
 * - `device-deleted` ends the session but neither re-renders nor notifies: no device remains.
 * - Owner changes while a guest sits only audit: the guest's line is what the phone carries.
 *   Except when the new owner is the guest: the phone is theirs now, so the session ends
 *   ('admin') and the device is in `owner` state (a session at your own phone would count
 *   against `multipleLogin`, and its timeout would "return" the phone to the same user).
 */
import type { DeviceState } from './types.js';

export interface GuestSession {
  extension: string;
  startedAt: number;
  /** Epoch ms; null when the session never times out (timeoutMs 0). */
  endsAt: number | null;
}

export interface DeviceSnapshot {
  owner: string | null;
  guest: GuestSession | null;
  hotdeskEnabled: boolean;
}

export type EndReason = 'logout' | 'timeout' | 'daily' | 'displaced' | 'admin' | 'owner' | 'user-deleted' | 'device-deleted';

/** Payload of each event, keyed by its `type`. */
export interface EventPayloads {
  assign: { owner: string };
  unassign: Record<never, never>;
  reassign: { owner: string };
  /** timeoutMs 0 = the session never times out. */
  login: { extension: string; now: number; timeoutMs: number };
  logout: { reason: 'logout' | 'admin' | 'owner' };
  expire: { now: number };
  'daily-logout': Record<never, never>;
  /** Ends `extension`'s session here because they logged in elsewhere; no-op if someone else sits here. */
  displace: { extension: string };
  'owner-reclaim': Record<never, never>;
  'user-deleted': { extension: string };
  'device-deleted': Record<never, never>;
  'set-hotdesk': { enabled: boolean };
}
export type EventType = keyof EventPayloads;
export type DeviceEvent<K extends EventType = EventType> = { [P in K]: { type: P } & EventPayloads[P] }[K];

export type Effect =
  | { type: 'start-session'; extension: string; endsAt: number | null }
  | { type: 'end-session'; extension: string; reason: EndReason }
  | { type: 'rerender' }
  | { type: 'notify' }
  | { type: 'audit'; action: string };

export type RejectReason =
  | 'hotdesk-disabled' // login on a device with hot desking off
  | 'has-owner' // assign on a device that already has another owner (use reassign)
  | 'no-owner' // reassign / owner-reclaim on a device without an owner
  | 'invalid-timeout'; // timeoutMs negative, fractional or not finite

export type TransitionResult =
  | { ok: true; next: DeviceSnapshot; effects: Effect[] }
  | { ok: false; reason: RejectReason };

// Records keyed by the union, so adding a state or an event type without listing it here fails to compile.
const STATE_KEYS: Record<DeviceState, true> = { unassigned: true, owner: true, guest: true };
const EVENT_KEYS: Record<EventType, true> = {
  assign: true, unassign: true, reassign: true, login: true, logout: true, expire: true, 'daily-logout': true,
  displace: true, 'owner-reclaim': true, 'user-deleted': true, 'device-deleted': true, 'set-hotdesk': true,
};
export const DEVICE_STATES = Object.keys(STATE_KEYS) as readonly DeviceState[];
export const EVENT_TYPES = Object.keys(EVENT_KEYS) as readonly EventType[];

export function stateOf(s: DeviceSnapshot): DeviceState {
  if (s.guest) return 'guest';
  return s.owner !== null ? 'owner' : 'unassigned';
}

/** The extension whose line the phone carries: the guest's, else the owner's, else none. */
export function lineOf(s: DeviceSnapshot): string | null {
  return s.guest?.extension ?? s.owner;
}

/** The event that moves a device from one owner to another, or null when nothing changes. */
export function ownerChangeEvent(from: string | null, to: string | null): DeviceEvent | null {
  if (from === to) return null;
  if (to === null) return { type: 'unassign' };
  return from === null ? { type: 'assign', owner: to } : { type: 'reassign', owner: to };
}

// ---- building results ------------------------------------------------------------------

const noop = (s: DeviceSnapshot): TransitionResult => ({ ok: true, next: s, effects: [] });
const reject = (reason: RejectReason): TransitionResult => ({ ok: false, reason });

/** A session end as it affects the render: a non-finite time counts as none (as JSON would write it). */
const renderedEnd = (s: DeviceSnapshot): number | null => {
  const endsAt = s.guest?.endsAt ?? null;
  return endsAt !== null && Number.isFinite(endsAt) ? endsAt : null;
};

/**
 * Whether two snapshots render the same config: same state, line, hot-desk flag and session end.
 * Compared field by field, not through a serialised key: the sweep runs this 100,000 times.
 */
function sameRender(a: DeviceSnapshot, b: DeviceSnapshot): boolean {
  return stateOf(a) === stateOf(b) && lineOf(a) === lineOf(b) && a.hotdeskEnabled === b.hotdeskEnabled && renderedEnd(a) === renderedEnd(b);
}

/** The result of a real change: session effects first, then rerender+notify if the config changes, then audit. */
function change(prev: DeviceSnapshot, next: DeviceSnapshot, action: string, sessionEffects: Effect[] = []): TransitionResult {
  const render: Effect[] = sameRender(prev, next) ? [] : [{ type: 'rerender' }, { type: 'notify' }];
  return { ok: true, next, effects: [...sessionEffects, ...render, { type: 'audit', action }] };
}

/** Ends the current guest's session; a no-op when nobody sits here. */
function endGuest(s: DeviceSnapshot, reason: EndReason, action: string): TransitionResult {
  if (!s.guest) return noop(s);
  return change(s, { ...s, guest: null }, action, [{ type: 'end-session', extension: s.guest.extension, reason }]);
}

function startGuest(s: DeviceSnapshot, e: DeviceEvent<'login'>): TransitionResult {
  const guest: GuestSession = { extension: e.extension, startedAt: e.now, endsAt: e.timeoutMs === 0 ? null : e.now + e.timeoutMs };
  const ended: Effect[] = s.guest ? [{ type: 'end-session', extension: s.guest.extension, reason: 'displaced' }] : [];
  const action = s.guest ? 'hotdesk.replace' : 'hotdesk.login';
  return change(s, { ...s, guest }, action, [...ended, { type: 'start-session', extension: guest.extension, endsAt: guest.endsAt }]);
}

// ---- handlers shared by several rows -----------------------------------------------------

type Handler<K extends EventType> = (s: DeviceSnapshot, e: DeviceEvent<K>) => TransitionResult;
type Row = { [K in EventType]: Handler<K> };

const assign: Handler<'assign'> = (s, e) => {
  if (s.owner === e.owner) return noop(s);
  if (s.owner !== null) return reject('has-owner');
  return change(s, { ...s, owner: e.owner }, 'device.assign');
};
const unassign: Handler<'unassign'> = (s) => (s.owner === null ? noop(s) : change(s, { ...s, owner: null }, 'device.unassign'));
const reassign: Handler<'reassign'> = (s, e) => {
  if (s.owner === null) return reject('no-owner');
  return s.owner === e.owner ? noop(s) : change(s, { ...s, owner: e.owner }, 'device.reassign');
};
/** In `guest` state: an owner change to the guest's own extension ends the session; else as `inner`. */
const ownerUnderGuest = <K extends 'assign' | 'reassign'>(inner: Handler<K>): Handler<K> => (s, e) => {
  if (!s.guest || e.owner !== s.guest.extension || s.owner === e.owner) return inner(s, e);
  if (e.type === 'assign' && s.owner !== null) return reject('has-owner');
  return change(s, { ...s, owner: e.owner, guest: null }, `device.${e.type}`, [{ type: 'end-session', extension: s.guest.extension, reason: 'admin' }]);
};
const validTimeout = (ms: number): boolean => Number.isSafeInteger(ms) && ms >= 0;

const loginFree: Handler<'login'> = (s, e) => {
  if (!s.hotdeskEnabled) return reject('hotdesk-disabled');
  if (!validTimeout(e.timeoutMs)) return reject('invalid-timeout');
  if (e.extension === s.owner) return noop(s); // the owner at their own phone: it is already theirs
  return startGuest(s, e);
};
const loginOccupied: Handler<'login'> = (s, e) => {
  if (!s.hotdeskEnabled) return reject('hotdesk-disabled');
  if (!validTimeout(e.timeoutMs)) return reject('invalid-timeout');
  if (e.extension === s.guest?.extension) return noop(s);
  if (e.extension === s.owner) return endGuest(s, 'owner', 'hotdesk.owner-reclaim');
  return startGuest(s, e);
};
const userDeleted: Handler<'user-deleted'> = (s, e) => {
  const guestGoes = s.guest?.extension === e.extension;
  const ownerGoes = s.owner === e.extension;
  if (!guestGoes && !ownerGoes) return noop(s);
  const next: DeviceSnapshot = { ...s, owner: ownerGoes ? null : s.owner, guest: guestGoes ? null : s.guest };
  const ended: Effect[] = guestGoes ? [{ type: 'end-session', extension: e.extension, reason: 'user-deleted' }] : [];
  return change(s, next, 'user.deleted', ended);
};
const setHotdesk: Handler<'set-hotdesk'> = (s, e) => {
  if (s.hotdeskEnabled === e.enabled) return noop(s);
  const ended: Effect[] = s.guest && !e.enabled ? [{ type: 'end-session', extension: s.guest.extension, reason: 'admin' }] : [];
  return change(s, { ...s, hotdeskEnabled: e.enabled, guest: e.enabled ? s.guest : null }, e.enabled ? 'hotdesk.enable' : 'hotdesk.disable', ended);
};
const deviceDeleted: Handler<'device-deleted'> = (s) => {
  const ended: Effect[] = s.guest ? [{ type: 'end-session', extension: s.guest.extension, reason: 'device-deleted' }] : [];
  // No rerender/notify: the device record is gone, there is nothing to render nor an address to notify.
  return { ok: true, next: { ...s, owner: null, guest: null }, effects: [...ended, { type: 'audit', action: 'device.deleted' }] };
};
const expire: Handler<'expire'> = (s, e) => {
  const endsAt = s.guest?.endsAt ?? null;
  return endsAt !== null && e.now >= endsAt ? endGuest(s, 'timeout', 'hotdesk.timeout') : noop(s);
};

// ---- THE TABLE ---------------------------------------------------------------------------

const TABLE: { readonly [S in DeviceState]: Row } = {
  unassigned: {
    assign,
    unassign: noop,
    reassign: () => reject('no-owner'),
    login: loginFree,
    logout: noop,
    expire: noop,
    'daily-logout': noop,
    displace: noop,
    'owner-reclaim': () => reject('no-owner'),
    'user-deleted': noop,
    'device-deleted': deviceDeleted,
    'set-hotdesk': setHotdesk,
  },
  owner: {
    assign,
    unassign,
    reassign,
    login: loginFree,
    logout: noop,
    expire: noop,
    'daily-logout': noop,
    displace: noop,
    'owner-reclaim': noop,
    'user-deleted': userDeleted,
    'device-deleted': deviceDeleted,
    'set-hotdesk': setHotdesk,
  },
  guest: {
    assign: ownerUnderGuest(assign), // the owner under a guest changes; the guest's line still renders
    unassign,
    reassign: ownerUnderGuest(reassign),
    login: loginOccupied,
    logout: (s, e) => endGuest(s, e.reason, 'hotdesk.logout'),
    expire,
    'daily-logout': (s) => endGuest(s, 'daily', 'hotdesk.daily-logout'),
    displace: (s, e) => (s.guest?.extension === e.extension ? endGuest(s, 'displaced', 'hotdesk.displaced') : noop(s)),
    'owner-reclaim': (s) => (s.owner === null ? reject('no-owner') : endGuest(s, 'owner', 'hotdesk.owner-reclaim')),
    'user-deleted': userDeleted,
    'device-deleted': deviceDeleted,
    'set-hotdesk': setHotdesk,
  },
};

/** The one entry point: the next snapshot plus the effects to run after saving it, or why not. */
export function transition<K extends EventType>(snapshot: DeviceSnapshot, event: DeviceEvent<K>): TransitionResult {
  const handler: Handler<K> = TABLE[stateOf(snapshot)][event.type];
  return handler(snapshot, event);
}
