/**
 * Checks an extension + PIN under the lockout rules, for every route in (admin API, PBX,
 * phone screens). The lock of a known user lives in their row, so it holds whichever route is
 * used and survives restarts.
 *
 * An unknown extension behaves like a known one with a wrong PIN: the PIN is checked against a
 * dummy hash (same cost), and its failures count down and lock in memory, so neither timing nor
 * the answers tell whether an extension exists.
 */
import type { User, UserStore } from '../../db/stores/users.js';
import { current, isLocked, onFailure, onSuccess, UNLOCKED, type LockoutPolicy, type LockoutState } from '../domain/lockout.js';
import { AppError } from '../errors.js';
import type { Clock } from './clock.js';
import { hashPin, verifyPin } from './pin.js';

/** Most unknown extensions whose failures are remembered; the oldest are forgotten first. */
const MAX_PHANTOMS = 10_000;

export const loginFailed = (attemptsLeft: number) =>
  new AppError(401, 'login_failed', 'login failed: wrong extension or PIN', { attemptsLeft });

export function lockedOut(msLeft: number): AppError {
  const retryAfterSeconds = Math.max(1, Math.ceil(msLeft / 1000));
  return new AppError(423, 'locked', `too many wrong PINs: locked for ${Math.ceil(retryAfterSeconds / 60)} min`,
    { retryAfterSeconds }, { 'Retry-After': String(retryAfterSeconds) });
}

export class PinGuard {
  private readonly dummy: Promise<string>;
  private readonly phantoms = new Map<string, LockoutState>();

  constructor(
    private readonly users: UserStore,
    private readonly clock: Clock,
    private readonly policy: LockoutPolicy,
  ) {
    // A real hash of a random PIN, so checking an unknown extension costs what a real check costs.
    this.dummy = hashPin(String(Math.floor(Math.random() * 1e8)).padStart(8, '0'));
  }

  /**
   * The user when `pin` is theirs; else throws 401 `login_failed` (with `attemptsLeft`) or 423
   * `locked`. A failure changes only the lockout state.
   */
  async check(extension: string, pin: string): Promise<User> {
    const before = this.stateOf(extension);
    const lockedFor = isLocked(before.state, this.clock.now());
    if (lockedFor > 0) throw lockedOut(lockedFor);

    const hash = before.user?.pinHash ?? (await this.dummy);
    const right = (await verifyPin(pin, hash)) && before.user?.pinHash != null;

    // Re-read after the await: another attempt may have counted (or locked) meanwhile.
    const now = this.clock.now();
    const { user, state } = this.stateOf(extension);
    const stillLocked = isLocked(state, now);
    if (stillLocked > 0) throw lockedOut(stillLocked);
    if (right && user) {
      if (state.failures !== 0 || state.lockedUntil !== null) this.save(extension, user, onSuccess());
      return user;
    }
    const out = onFailure(current(state, now), now, this.policy);
    this.save(extension, user, out.state);
    if (out.locked) throw lockedOut(isLocked(out.state, now));
    throw loginFailed(out.attemptsLeft);
  }

  /** Milliseconds the extension stays locked (0 when not locked). */
  lockedFor(extension: string): number {
    return isLocked(this.stateOf(extension).state, this.clock.now());
  }

  private stateOf(extension: string): { user: User | null; state: LockoutState } {
    const user = this.users.get(extension);
    if (user) return { user, state: { failures: user.pinFailures, lockedUntil: user.pinLockedUntil } };
    return { user: null, state: this.phantoms.get(extension) ?? UNLOCKED };
  }

  private save(extension: string, user: User | null, state: LockoutState): void {
    if (user) {
      this.users.setPinState(extension, state.failures, state.lockedUntil);
      return;
    }
    this.phantoms.delete(extension);
    this.phantoms.set(extension, state);
    if (this.phantoms.size > MAX_PHANTOMS) {
      const oldest = this.phantoms.keys().next();
      if (!oldest.done) this.phantoms.delete(oldest.value);
    }
  }
}
