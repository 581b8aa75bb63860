/**
 * PIN-attempt lockout, pure: the caller stores the state per user and passes the clock.
 *
 * Flow for a login attempt: `isLocked` first (locked → 423 without checking the PIN), then
 * `onFailure` on a wrong PIN (401 with `attemptsLeft`, or 423 when this failure locked) or
 * `onSuccess` on a right one. Failures below the limit do not decay with time; a lock that
 * has run out resets the count, so the user gets the full number of attempts again.
 */

export interface LockoutState {
  failures: number;
  /** Epoch ms until which PIN logins are refused; null when not locked. */
  lockedUntil: number | null;
}

export interface LockoutPolicy {
  /** Failures that trigger the lock; values below 1 count as 1. */
  maxAttempts: number;
  lockoutMs: number;
}

export interface FailureOutcome {
  state: LockoutState;
  /** Failures still allowed before the lock; 0 when locked. */
  attemptsLeft: number;
  locked: boolean;
}

export const UNLOCKED: LockoutState = Object.freeze({ failures: 0, lockedUntil: null });

/** Milliseconds until the lock lifts, or 0 when not locked at `now`. */
export function isLocked(state: LockoutState, now: number): number {
  return state.lockedUntil !== null && now < state.lockedUntil ? state.lockedUntil - now : 0;
}

/** The state as it stands at `now`: an expired lock is dropped together with its count. */
export function current(state: LockoutState, now: number): LockoutState {
  return state.lockedUntil !== null && now >= state.lockedUntil ? UNLOCKED : state;
}

export function onFailure(state: LockoutState, now: number, policy: LockoutPolicy): FailureOutcome {
  const max = Math.max(1, Math.floor(policy.maxAttempts));
  // A failure while locked (the caller should have refused first) neither extends nor clears the lock.
  if (isLocked(state, now) > 0) return { state, attemptsLeft: 0, locked: true };
  const failures = current(state, now).failures + 1;
  if (failures >= max) {
    const lockedUntil = now + Math.max(0, policy.lockoutMs);
    return { state: { failures, lockedUntil }, attemptsLeft: 0, locked: lockedUntil > now };
  }
  return { state: { failures, lockedUntil: null }, attemptsLeft: max - failures, locked: false };
}

/** A right PIN clears failures and any lock. */
export function onSuccess(): LockoutState {
  return UNLOCKED;
}
