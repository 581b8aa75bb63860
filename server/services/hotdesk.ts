/**
 * Hot desking use cases: log in, log out, sweep (hotdesk-sweep.ts), and the hooks other
 * services call when a user or device goes away or a device is edited. Every change goes through the one transition
 * function: load the snapshot, transition, save and run the effects in ONE transaction.
 */
import type { DeviceRecord, DeviceWrite } from '../../db/stores/devices.js';
import type { Stores } from '../../db/stores/index.js';
import type { SessionRecord } from '../../db/stores/sessions.js';
import type { User } from '../../db/stores/users.js';
import type { Config } from '../config.js';
import {
  ownerChangeEvent, stateOf, transition,
  type DeviceEvent, type DeviceSnapshot, type RejectReason, type TransitionResult,
} from '../domain/device-state.js';
import { parseDuration } from '../domain/duration.js';
import { decideLogin, type HotdeskPolicy } from '../domain/hotdesk-policy.js';
import type { Mac } from '../domain/mac.js';
import { AppError, conflict, forbidden, notFound } from '../errors.js';
import { SYSTEM, type Actor, type AuditSink } from './audit.js';
import type { ChangeTracker } from './change-tracker.js';
import type { Clock } from './clock.js';
import { pickWrite } from './devices.js';
import { HotdeskSweep, type SweepReport } from './hotdesk-sweep.js';
import type { PinGuard } from './pin-guard.js';

export { SWEEP_BATCH, type SweepReport } from './hotdesk-sweep.js';

interface Loaded {
  mac: Mac;
  snapshot: DeviceSnapshot;
  session: SessionRecord | null;
  device: DeviceRecord;
}

interface CommitOptions {
  /** false when the caller saves the device row itself (device edits). */
  saveDevice?: boolean;
  /** false when the caller bumps the version and queues the resync itself. */
  render?: boolean;
}

export type LogoutReason = 'logout' | 'admin' | 'owner';

export interface HotdeskDeps {
  stores: Stores;
  changes: ChangeTracker;
  clock: Clock;
  audit: AuditSink;
  config: Config;
  pins: PinGuard;
}

export function rejection(reason: RejectReason): AppError {
  switch (reason) {
    case 'hotdesk-disabled':
      return forbidden('hot desking is off for this device', { reason });
    case 'has-owner':
    case 'no-owner':
      return conflict(`refused: ${reason}`, { reason });
    case 'invalid-timeout':
      return new AppError(500, 'internal', 'the device has an invalid session timeout', { reason });
  }
}

export class HotdeskService {
  readonly policy: HotdeskPolicy;
  private readonly s: Stores;
  private readonly sweeper: HotdeskSweep;

  constructor(private readonly d: HotdeskDeps) {
    this.s = d.stores;
    this.sweeper = new HotdeskSweep(d);
    this.policy = { multipleLogin: d.config.hotdesk.multipleLogin, maxDevicesPerUser: d.config.hotdesk.maxDevicesPerUser };
  }

  // ---- log in / log out -----------------------------------------------------------------

  /**
   * Logs `extension` in at `mac` after checking the PIN (401/423), then the device (403), the
   * user (403) and the multiple-login rule (409). A refusal changes no device and queues nothing.
   */
  async login(mac: Mac, extension: string, pin: string, actor: Actor): Promise<DeviceRecord> {
    const device = this.device(mac);
    if (!device.hotdeskEnabled) throw rejection('hotdesk-disabled');
    const user = await this.d.pins.check(extension, pin);
    return this.s.tx(() => this.loginVerified(mac, user, actor));
  }

  /** The login once the PIN is right; one transaction (the caller's). */
  loginVerified(mac: Mac, user: User, actor: Actor): DeviceRecord {
    const now = this.d.clock.now();
    if (!this.s.devices.get(mac)) throw notFound(`device ${mac}`);
    this.endDue(mac, user.extension, now);
    const loaded = this.load(mac);
    if (!loaded) throw notFound(`device ${mac}`);
    const event: DeviceEvent = { type: 'login', extension: user.extension, now, timeoutMs: this.timeoutOf(loaded.device) };
    const result = transition(loaded.snapshot, event);
    if (!result.ok) throw rejection(result.reason);
    if (result.effects.some((e) => e.type === 'start-session')) {
      if (!user.hotdeskAllowed) throw forbidden(`user ${user.extension} may not hot desk`, { reason: 'user-not-allowed' });
      const decision = decideLogin(this.policy, this.s.sessions.activeFor(user.extension), mac);
      if (!decision.allow) {
        const why = decision.reason === 'device-limit'
          ? `user ${user.extension} is already logged in at ${this.policy.maxDevicesPerUser} devices`
          : `user ${user.extension} is already logged in at another device`;
        throw conflict(why, { reason: decision.reason });
      }
      for (const other of decision.displace) this.applyTo(other, { type: 'displace', extension: user.extension }, actor, now);
    }
    this.commit(loaded, result, actor, now);
    return this.device(mac);
  }

  /** Ends the guest's session (no-op when nobody sits there): back to the owner or unassigned. */
  logout(mac: Mac, reason: LogoutReason, actor: Actor): DeviceRecord {
    return this.s.tx(() => {
      this.device(mac);
      this.applyTo(mac, { type: 'logout', reason }, actor, this.d.clock.now());
      return this.device(mac);
    });
  }

  /** Logout by someone proving who they are: the guest ('logout') or the device's owner ('owner'). */
  async logoutWithPin(mac: Mac, extension: string, pin: string, actor: Actor): Promise<DeviceRecord> {
    this.device(mac);
    const user = await this.d.pins.check(extension, pin);
    return this.s.tx(() => {
      const loaded = this.load(mac);
      if (!loaded) throw notFound(`device ${mac}`);
      const { guest, owner } = loaded.snapshot;
      if (!guest) return this.device(mac);
      let reason: LogoutReason;
      if (guest.extension === user.extension) reason = 'logout';
      else if (owner === user.extension) reason = 'owner';
      else throw forbidden('only the guest or the owner of this phone may end its session', { reason: 'not-guest-or-owner' });
      this.commit(loaded, transition(loaded.snapshot, { type: 'logout', reason }), actor, this.d.clock.now());
      return this.device(mac);
    });
  }

  /**
   * Ends, as the sweep would ('timeout' / 'daily'), the sessions a login looks at (the one on
   * the target device and the user's own) that are already past their end but that the sweep
   * has not reached yet: a login must neither be a no-op on an expired session (the next sweep
   * would log the user out at once) nor be refused or counted against `multipleLogin` because
   * of one. Part of the login's transaction, so a refused login rolls these back too.
   */
  private endDue(mac: Mac, extension: string, now: number): void {
    const cut = this.sweeper.lastDailyLogout(now);
    const macs = new Set<Mac>([mac, ...this.s.sessions.activeFor(extension).map((x) => x.mac)]);
    for (const m of macs) {
      const active = this.s.sessions.activeOn(m);
      if (!active) continue;
      const daily = cut !== null && active.startedAt < cut && (active.endsAt === null || active.endsAt > cut);
      this.applyTo(m, daily ? { type: 'daily-logout' } : { type: 'expire', now }, SYSTEM, now);
    }
  }

  // ---- sweep ----------------------------------------------------------------------------

  /** Ends timed-out sessions and those past the daily logout (see HotdeskSweep); how many. */
  sweep(now: number = this.d.clock.now()): Promise<number> {
    return this.sweeper.sweep(now);
  }

  /** `sweep`, also reporting its batches and the longest one (the jobs log it; so does the benchmark). */
  sweepReport(now: number = this.d.clock.now()): Promise<SweepReport> {
    return this.sweeper.run(now);
  }

  /** The latest daily-logout instant at or before `now`, or null when none is configured. */
  lastDailyLogout(now: number): number | null {
    return this.sweeper.lastDailyLogout(now);
  }

  // ---- hooks for the user and device services (called inside their transactions) -------

  /** A user is being deleted: their sessions end ('user-deleted') and devices they own lose them. */
  endSessionsOfUser(extension: string): Mac[] {
    const now = this.d.clock.now();
    const macs = this.s.devices.macsForUser(extension);
    for (const session of this.s.sessions.activeFor(extension)) {
      if (!this.s.devices.get(session.mac)) this.s.sessions.finish(session.id, now, 'user-deleted');
    }
    for (const mac of macs) this.applyTo(mac, { type: 'user-deleted', extension }, SYSTEM, now);
    return macs;
  }

  /** A user may no longer hot desk: their guest sessions end ('admin') and those phones revert. */
  endGuestSessionsOf(extension: string, actor: Actor): Mac[] {
    const now = this.d.clock.now();
    const macs = this.s.sessions.activeFor(extension).map((x) => x.mac);
    for (const mac of macs) this.applyTo(mac, { type: 'logout', reason: 'admin' }, actor, now);
    return macs;
  }

  /** A device is being deleted: its session ends ('device-deleted'). */
  endSessionOn(mac: Mac, _reason: 'device-deleted', actor: Actor = SYSTEM): void {
    this.applyTo(mac, { type: 'device-deleted' }, actor, this.d.clock.now());
  }

  /**
   * A device edit changes its owner or hot-desk switch: replayed through the state machine so
   * that, e.g., switching hot desking off ends the guest's session ('admin'). The device
   * service saves the row and queues the resync itself.
   */
  deviceEdited(before: DeviceRecord, next: DeviceWrite, actor: Actor): void {
    const loaded = this.load(before.mac);
    if (!loaded) return;
    const events: DeviceEvent[] = [];
    const owner = ownerChangeEvent(before.ownerExtension, next.ownerExtension);
    if (owner) events.push(owner);
    if (before.hotdeskEnabled !== next.hotdeskEnabled) events.push({ type: 'set-hotdesk', enabled: next.hotdeskEnabled });
    const now = this.d.clock.now();
    let current = loaded;
    for (const event of events) {
      const result = transition(current.snapshot, event);
      if (!result.ok) throw rejection(result.reason);
      this.commit(current, result, actor, now, { saveDevice: false, render: false });
      current = { ...current, snapshot: result.next, session: this.s.sessions.activeOn(before.mac) };
    }
  }

  // ---- the one path: load, transition, save + effects -------------------------------------

  private device(mac: Mac): DeviceRecord {
    const d = this.s.devices.get(mac);
    if (!d) throw notFound(`device ${mac}`);
    return d;
  }

  private load(mac: Mac): Loaded | null {
    const device = this.s.devices.get(mac);
    if (!device) return null;
    const active = this.s.sessions.activeOn(mac);
    const snapshot: DeviceSnapshot = {
      owner: device.ownerExtension,
      hotdeskEnabled: device.hotdeskEnabled,
      guest: active ? { extension: active.extension, startedAt: active.startedAt, endsAt: active.endsAt } : null,
    };
    return { mac, device, snapshot, session: active };
  }

  private applyTo(mac: Mac, event: DeviceEvent, actor: Actor, now: number): void {
    const loaded = this.load(mac);
    if (!loaded) return;
    const result = transition(loaded.snapshot, event);
    if (!result.ok) throw rejection(result.reason);
    this.commit(loaded, result, actor, now);
  }

  /** Saves `result.next` and runs its effects; returns how many sessions it ended. */
  private commit(loaded: Loaded, result: TransitionResult, actor: Actor, now: number, opts: CommitOptions = {}): number {
    if (!result.ok) throw rejection(result.reason);
    const { mac, snapshot: prev, session } = loaded;
    const { next } = result;
    let ended = 0;
    let rerender = false;
    let notify = false;
    let action = 'hotdesk';
    for (const effect of result.effects) {
      switch (effect.type) {
        case 'end-session':
          // Already ended by an overlapping sweep or request: nothing more to do here.
          if (!session || !this.s.sessions.finish(session.id, now, effect.reason)) return ended;
          ended++;
          break;
        case 'start-session':
          this.s.sessions.start(mac, effect.extension, now, effect.endsAt);
          break;
        case 'rerender':
          rerender = true;
          break;
        case 'notify':
          notify = true;
          break;
        case 'audit':
          action = effect.action;
          this.d.audit.record({
            actor, action, target: `device:${mac}`,
            before: { state: stateOf(prev), owner: prev.owner, guest: prev.guest?.extension ?? null },
            after: { state: stateOf(next), owner: next.owner, guest: next.guest?.extension ?? null },
          });
          break;
      }
    }
    if (opts.saveDevice !== false && (next.owner !== prev.owner || next.hotdeskEnabled !== prev.hotdeskEnabled)) {
      this.s.devices.update({ ...pickWrite(loaded.device), ownerExtension: next.owner, hotdeskEnabled: next.hotdeskEnabled }, now);
    }
    if (opts.render !== false && (rerender || notify)) this.d.changes.changed([mac], action, { notify });
    return ended;
  }

  private timeoutOf(device: DeviceRecord): number {
    const own = device.sessionTimeout === null ? null : parseDuration(device.sessionTimeout);
    return own ?? parseDuration(this.d.config.hotdesk.sessionTimeout) ?? 0;
  }
}
