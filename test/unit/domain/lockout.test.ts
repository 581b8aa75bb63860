import { expect } from 'chai';
import fc from 'fast-check';
import { current, isLocked, onFailure, onSuccess, UNLOCKED, type LockoutState } from '../../../server/domain/lockout.js';

const POLICY = { maxAttempts: 3, lockoutMs: 15 * 60_000 };
const T0 = 1_700_000_000_000;

describe('lockout', () => {
  it('counts down attempts, then locks for lockoutMs', () => {
    const a = onFailure(UNLOCKED, T0, POLICY);
    expect(a).to.deep.equal({ state: { failures: 1, lockedUntil: null }, attemptsLeft: 2, locked: false });
    const b = onFailure(a.state, T0 + 1, POLICY);
    expect(b.attemptsLeft).to.equal(1);
    const c = onFailure(b.state, T0 + 2, POLICY);
    expect(c).to.deep.equal({ state: { failures: 3, lockedUntil: T0 + 2 + POLICY.lockoutMs }, attemptsLeft: 0, locked: true });
    expect(isLocked(c.state, T0 + 2)).to.equal(POLICY.lockoutMs);
    expect(isLocked(c.state, T0 + 2 + POLICY.lockoutMs - 1)).to.equal(1);
    expect(isLocked(c.state, T0 + 2 + POLICY.lockoutMs)).to.equal(0);
  });

  it('a failure while locked neither extends nor lifts the lock', () => {
    const locked: LockoutState = { failures: 3, lockedUntil: T0 + 1000 };
    expect(onFailure(locked, T0 + 500, POLICY)).to.deep.equal({ state: locked, attemptsLeft: 0, locked: true });
  });

  it('an expired lock resets the count', () => {
    const expired: LockoutState = { failures: 3, lockedUntil: T0 };
    expect(current(expired, T0)).to.deep.equal(UNLOCKED);
    expect(current(expired, T0 - 1)).to.equal(expired);
    expect(onFailure(expired, T0 + 1, POLICY)).to.deep.equal({ state: { failures: 1, lockedUntil: null }, attemptsLeft: 2, locked: false });
  });

  it('success resets everything', () => {
    expect(onSuccess()).to.deep.equal({ failures: 0, lockedUntil: null });
    expect(isLocked(onSuccess(), T0)).to.equal(0);
  });

  it('maxAttempts below 1 counts as 1; lockoutMs 0 never locks', () => {
    expect(onFailure(UNLOCKED, T0, { maxAttempts: 0, lockoutMs: 1000 }).locked).to.equal(true);
    const r = onFailure(UNLOCKED, T0, { maxAttempts: 1, lockoutMs: 0 });
    expect(r.locked).to.equal(false);
    expect(isLocked(r.state, T0)).to.equal(0);
  });

  it('property: exactly maxAttempts consecutive failures lock, and the lock lasts lockoutMs', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 3_600_000 }), fc.array(fc.nat({ max: 60_000 }), { minLength: 1, maxLength: 30 }),
      (maxAttempts, lockoutMs, gaps) => {
        let state = UNLOCKED;
        let now = T0;
        let streak = 0;
        for (const gap of gaps) {
          now += gap;
          if (isLocked(state, now) > 0) { expect(streak).to.equal(maxAttempts); continue; }
          if (streak === maxAttempts) streak = 0; // the lock ran out: full attempts again
          const r = onFailure(state, now, { maxAttempts, lockoutMs });
          streak += 1;
          expect(r.locked).to.equal(streak === maxAttempts);
          expect(r.attemptsLeft).to.equal(maxAttempts - streak);
          if (r.locked) expect(isLocked(r.state, now)).to.equal(lockoutMs);
          state = r.state;
        }
      },
    ));
  });
});
