import { expect } from 'chai';
import fc from 'fast-check';
import {
  DEVICE_STATES, EVENT_TYPES, lineOf, ownerChangeEvent, stateOf, transition,
  type DeviceEvent, type DeviceSnapshot, type Effect, type EndReason, type EventType, type RejectReason,
} from '../../../server/domain/device-state.js';
import type { DeviceState } from '../../../server/domain/types.js';

const T0 = 1_700_000_000_000;
const H = 3_600_000;
const U: DeviceSnapshot = { owner: null, guest: null, hotdeskEnabled: true };
const O: DeviceSnapshot = { owner: '100', guest: null, hotdeskEnabled: true };
const G: DeviceSnapshot = { owner: '100', guest: { extension: '200', startedAt: T0, endsAt: T0 + H }, hotdeskEnabled: true };
const BASE: Record<DeviceState, DeviceSnapshot> = { unassigned: U, owner: O, guest: G };
const G_NO_OWNER: DeviceSnapshot = { ...G, owner: null };
const OFF = (s: DeviceSnapshot): DeviceSnapshot => ({ ...s, hotdeskEnabled: false });

const RN: Effect[] = [{ type: 'rerender' }, { type: 'notify' }];
const audit = (action: string): Effect => ({ type: 'audit', action });
const end = (extension: string, reason: EndReason): Effect => ({ type: 'end-session', extension, reason });
const start = (extension: string, endsAt: number | null): Effect => ({ type: 'start-session', extension, endsAt });
const login = (extension: string, now = T0 + 1000, timeoutMs = H): DeviceEvent => ({ type: 'login', extension, now, timeoutMs });

interface Case {
  name: string;
  from?: DeviceSnapshot; // defaults to BASE[state]
  event: DeviceEvent;
  expect: { next: DeviceSnapshot; effects: Effect[] } | { reject: RejectReason };
}
const same = (from: DeviceSnapshot) => ({ next: from, effects: [] });
const endedGuest = (reason: EndReason, action: string) => ({ next: O, effects: [end('200', reason), ...RN, audit(action)] });

/** Every (state × event) cell. The type makes a missing cell a compile error; the loop below a test failure. */
const CASES: Record<DeviceState, Record<EventType, Case[]>> = {
  unassigned: {
    assign: [{ name: 'gets an owner', event: { type: 'assign', owner: '100' }, expect: { next: O, effects: [...RN, audit('device.assign')] } }],
    unassign: [{ name: 'no-op', event: { type: 'unassign' }, expect: same(U) }],
    reassign: [{ name: 'refused', event: { type: 'reassign', owner: '100' }, expect: { reject: 'no-owner' } }],
    login: [
      { name: 'starts a session', event: login('300'), expect: { next: { ...U, guest: { extension: '300', startedAt: T0 + 1000, endsAt: T0 + 1000 + H } }, effects: [start('300', T0 + 1000 + H), ...RN, audit('hotdesk.login')] } },
      { name: 'timeout 0 never ends', event: login('300', T0, 0), expect: { next: { ...U, guest: { extension: '300', startedAt: T0, endsAt: null } }, effects: [start('300', null), ...RN, audit('hotdesk.login')] } },
      { name: 'hot desking off', from: OFF(U), event: login('300'), expect: { reject: 'hotdesk-disabled' } },
      { name: 'negative timeout', event: login('300', T0, -1), expect: { reject: 'invalid-timeout' } },
    ],
    logout: [{ name: 'no-op', event: { type: 'logout', reason: 'logout' }, expect: same(U) }],
    expire: [{ name: 'no-op', event: { type: 'expire', now: T0 }, expect: same(U) }],
    'daily-logout': [{ name: 'no-op', event: { type: 'daily-logout' }, expect: same(U) }],
    displace: [{ name: 'no-op', event: { type: 'displace', extension: '200' }, expect: same(U) }],
    'owner-reclaim': [{ name: 'refused', event: { type: 'owner-reclaim' }, expect: { reject: 'no-owner' } }],
    'user-deleted': [{ name: 'no-op', event: { type: 'user-deleted', extension: '100' }, expect: same(U) }],
    'device-deleted': [{ name: 'audited', event: { type: 'device-deleted' }, expect: { next: U, effects: [audit('device.deleted')] } }],
    'set-hotdesk': [
      { name: 'disable', event: { type: 'set-hotdesk', enabled: false }, expect: { next: OFF(U), effects: [...RN, audit('hotdesk.disable')] } },
      { name: 'enable', from: OFF(U), event: { type: 'set-hotdesk', enabled: true }, expect: { next: U, effects: [...RN, audit('hotdesk.enable')] } },
      { name: 'unchanged', event: { type: 'set-hotdesk', enabled: true }, expect: same(U) },
    ],
  },
  owner: {
    assign: [
      { name: 'same owner is a no-op', event: { type: 'assign', owner: '100' }, expect: same(O) },
      { name: 'another owner is refused', event: { type: 'assign', owner: '101' }, expect: { reject: 'has-owner' } },
    ],
    unassign: [{ name: 'loses the owner', event: { type: 'unassign' }, expect: { next: U, effects: [...RN, audit('device.unassign')] } }],
    reassign: [
      { name: 'new owner', event: { type: 'reassign', owner: '101' }, expect: { next: { ...O, owner: '101' }, effects: [...RN, audit('device.reassign')] } },
      { name: 'same owner', event: { type: 'reassign', owner: '100' }, expect: same(O) },
    ],
    login: [
      { name: 'guest suspends the owner line', event: login('300'), expect: { next: { ...O, guest: { extension: '300', startedAt: T0 + 1000, endsAt: T0 + 1000 + H } }, effects: [start('300', T0 + 1000 + H), ...RN, audit('hotdesk.login')] } },
      { name: 'the owner at their own phone', event: login('100'), expect: same(O) },
      { name: 'hot desking off', from: OFF(O), event: login('300'), expect: { reject: 'hotdesk-disabled' } },
    ],
    logout: [{ name: 'no-op', event: { type: 'logout', reason: 'admin' }, expect: same(O) }],
    expire: [{ name: 'no-op', event: { type: 'expire', now: T0 + 100 * H }, expect: same(O) }],
    'daily-logout': [{ name: 'no-op', event: { type: 'daily-logout' }, expect: same(O) }],
    displace: [{ name: 'no-op', event: { type: 'displace', extension: '100' }, expect: same(O) }],
    'owner-reclaim': [{ name: 'no-op', event: { type: 'owner-reclaim' }, expect: same(O) }],
    'user-deleted': [
      { name: 'the owner', event: { type: 'user-deleted', extension: '100' }, expect: { next: U, effects: [...RN, audit('user.deleted')] } },
      { name: 'someone else', event: { type: 'user-deleted', extension: '999' }, expect: same(O) },
    ],
    'device-deleted': [{ name: 'audited', event: { type: 'device-deleted' }, expect: { next: U, effects: [audit('device.deleted')] } }],
    'set-hotdesk': [{ name: 'disable', event: { type: 'set-hotdesk', enabled: false }, expect: { next: OFF(O), effects: [...RN, audit('hotdesk.disable')] } }],
  },
  guest: {
    assign: [
      { name: 'another owner is refused', event: { type: 'assign', owner: '101' }, expect: { reject: 'has-owner' } },
      { name: 'owner under a guest: audit only', from: G_NO_OWNER, event: { type: 'assign', owner: '100' }, expect: { next: G, effects: [audit('device.assign')] } },
      { name: 'the guest becomes the owner: the session ends', from: G_NO_OWNER, event: { type: 'assign', owner: '200' }, expect: { next: { ...O, owner: '200' }, effects: [end('200', 'admin'), ...RN, audit('device.assign')] } },
      { name: 'the guest as owner of an owned device is refused', event: { type: 'assign', owner: '200' }, expect: { reject: 'has-owner' } },
    ],
    unassign: [{ name: 'audit only', event: { type: 'unassign' }, expect: { next: G_NO_OWNER, effects: [audit('device.unassign')] } }],
    reassign: [
      { name: 'audit only', event: { type: 'reassign', owner: '101' }, expect: { next: { ...G, owner: '101' }, effects: [audit('device.reassign')] } },
      { name: 'the guest becomes the owner: the session ends', event: { type: 'reassign', owner: '200' }, expect: { next: { ...O, owner: '200' }, effects: [end('200', 'admin'), ...RN, audit('device.reassign')] } },
    ],
    login: [
      { name: 'a new user replaces the guest', event: login('300'), expect: { next: { ...G, guest: { extension: '300', startedAt: T0 + 1000, endsAt: T0 + 1000 + H } }, effects: [end('200', 'displaced'), start('300', T0 + 1000 + H), ...RN, audit('hotdesk.replace')] } },
      { name: 'the same guest is idempotent', event: login('200'), expect: same(G) },
      { name: 'the owner reclaims', event: login('100'), expect: endedGuest('owner', 'hotdesk.owner-reclaim') },
      { name: 'hot desking off', from: OFF(G), event: login('300'), expect: { reject: 'hotdesk-disabled' } },
    ],
    logout: [
      { name: 'by the user', event: { type: 'logout', reason: 'logout' }, expect: endedGuest('logout', 'hotdesk.logout') },
      { name: 'by an admin', event: { type: 'logout', reason: 'admin' }, expect: endedGuest('admin', 'hotdesk.logout') },
      { name: 'no owner → unassigned', from: G_NO_OWNER, event: { type: 'logout', reason: 'logout' }, expect: { next: U, effects: [end('200', 'logout'), ...RN, audit('hotdesk.logout')] } },
    ],
    expire: [
      { name: 'before endsAt', event: { type: 'expire', now: T0 + H - 1 }, expect: same(G) },
      { name: 'at endsAt', event: { type: 'expire', now: T0 + H }, expect: endedGuest('timeout', 'hotdesk.timeout') },
      { name: 'never times out', from: { ...G, guest: { extension: '200', startedAt: T0, endsAt: null } }, event: { type: 'expire', now: T0 + 1000 * H }, expect: same({ ...G, guest: { extension: '200', startedAt: T0, endsAt: null } }) },
    ],
    'daily-logout': [{ name: 'ends', event: { type: 'daily-logout' }, expect: endedGuest('daily', 'hotdesk.daily-logout') }],
    displace: [
      { name: 'that user', event: { type: 'displace', extension: '200' }, expect: endedGuest('displaced', 'hotdesk.displaced') },
      { name: 'someone else sits here now', event: { type: 'displace', extension: '999' }, expect: same(G) },
    ],
    'owner-reclaim': [
      { name: 'guest ends with owner', event: { type: 'owner-reclaim' }, expect: endedGuest('owner', 'hotdesk.owner-reclaim') },
      { name: 'no owner', from: G_NO_OWNER, event: { type: 'owner-reclaim' }, expect: { reject: 'no-owner' } },
    ],
    'user-deleted': [
      { name: 'the guest', event: { type: 'user-deleted', extension: '200' }, expect: endedGuest('user-deleted', 'user.deleted') },
      { name: 'the owner: audit only', event: { type: 'user-deleted', extension: '100' }, expect: { next: G_NO_OWNER, effects: [audit('user.deleted')] } },
      { name: 'guest and owner', from: { ...G, owner: '200' }, event: { type: 'user-deleted', extension: '200' }, expect: { next: U, effects: [end('200', 'user-deleted'), ...RN, audit('user.deleted')] } },
      { name: 'someone else', event: { type: 'user-deleted', extension: '999' }, expect: same(G) },
    ],
    'device-deleted': [{ name: 'ends the session', event: { type: 'device-deleted' }, expect: { next: U, effects: [end('200', 'device-deleted'), audit('device.deleted')] } }],
    'set-hotdesk': [{ name: 'disable ends the guest', event: { type: 'set-hotdesk', enabled: false }, expect: { next: OFF(O), effects: [end('200', 'admin'), ...RN, audit('hotdesk.disable')] } }],
  },
};

describe('device-state transition table', () => {
  for (const state of DEVICE_STATES) {
    for (const type of EVENT_TYPES) {
      it(`${state} × ${type}`, () => {
        const cases = CASES[state][type];
        expect(cases, 'missing cell').to.be.an('array').that.is.not.empty;
        for (const c of cases) {
          const from = c.from ?? BASE[state];
          expect(stateOf(from), c.name).to.equal(state);
          expect(c.event.type, c.name).to.equal(type);
          const r = transition(from, c.event);
          if ('reject' in c.expect) expect(r, c.name).to.deep.equal({ ok: false, reason: c.expect.reject });
          else expect(r, c.name).to.deep.equal({ ok: true, ...c.expect });
        }
      });
    }
  }

  it('ownerChangeEvent picks assign / reassign / unassign', () => {
    expect(ownerChangeEvent(null, null)).to.equal(null);
    expect(ownerChangeEvent('1', '1')).to.equal(null);
    expect(ownerChangeEvent(null, '1')).to.deep.equal({ type: 'assign', owner: '1' });
    expect(ownerChangeEvent('1', '2')).to.deep.equal({ type: 'reassign', owner: '2' });
    expect(ownerChangeEvent('1', null)).to.deep.equal({ type: 'unassign' });
  });
});

// ---- properties over random event sequences -------------------------------------------

const EXTS = ['100', '101', '200', '201'] as const;
const ext = fc.constantFrom(...EXTS);
const snapshotArb: fc.Arbitrary<DeviceSnapshot> = fc.record({
  owner: fc.option(ext, { nil: null }),
  guest: fc.option(
    fc.record({ extension: ext, startedAt: fc.integer({ min: T0 - 10 * H, max: T0 }), timeout: fc.constantFrom(0, H, 12 * H) })
      .map(({ extension, startedAt, timeout }) => ({ extension, startedAt, endsAt: timeout === 0 ? null : startedAt + timeout })),
    { nil: null },
  ),
  hotdeskEnabled: fc.boolean(),
});
const eventArb: fc.Arbitrary<DeviceEvent> = fc.oneof(
  fc.record({ type: fc.constant('assign' as const), owner: ext }),
  fc.constant({ type: 'unassign' as const }),
  fc.record({ type: fc.constant('reassign' as const), owner: ext }),
  fc.record({ type: fc.constant('login' as const), extension: ext, now: fc.constant(0), timeoutMs: fc.constantFrom(0, 1000, H, 12 * H) }),
  fc.record({ type: fc.constant('login' as const), extension: ext, now: fc.constant(0), timeoutMs: fc.constantFrom(0, 1000, H, 12 * H) }),
  fc.record({ type: fc.constant('logout' as const), reason: fc.constantFrom('logout' as const, 'admin' as const, 'owner' as const) }),
  fc.constant({ type: 'expire' as const, now: 0 }),
  fc.constant({ type: 'daily-logout' as const }),
  fc.record({ type: fc.constant('displace' as const), extension: ext }),
  fc.constant({ type: 'owner-reclaim' as const }),
  fc.record({ type: fc.constant('user-deleted' as const), extension: ext }),
  fc.constant({ type: 'device-deleted' as const }),
  fc.record({ type: fc.constant('set-hotdesk' as const), enabled: fc.boolean() }),
);
/** Events get the current time of a monotonic clock. */
const at = (e: DeviceEvent, now: number): DeviceEvent => (e.type === 'login' || e.type === 'expire' ? { ...e, now } : e);
const stepsArb = fc.array(fc.tuple(fc.nat({ max: 2 * H }), eventArb), { maxLength: 40 });
const ENDING = new Set<EventType>(['logout', 'expire', 'daily-logout', 'displace']);

describe('device-state properties', () => {
  it('hold over random event sequences', () => {
    fc.assert(
      fc.property(snapshotArb, stepsArb, (initial, steps) => {
        let s = initial;
        let now = T0;
        let timeout: number | null = s.guest ? (s.guest.endsAt === null ? 0 : s.guest.endsAt - s.guest.startedAt) : null;
        let open: string | null = s.guest?.extension ?? null; // the session currently open on this device
        for (const [dt, raw] of steps) {
          now += dt;
          const e = at(raw, now);
          const r = transition(s, e);
          if (!r.ok) continue;
          const { next, effects } = r;
          const has = (t: Effect['type']) => effects.some((x) => x.type === t);
          // (c) sessions open and close in order: an end always closes the open one, a start needs none open.
          for (const fx of effects) {
            if (fx.type === 'end-session') { expect(open).to.equal(fx.extension); open = null; }
            if (fx.type === 'start-session') { expect(open).to.equal(null); open = fx.extension; if (e.type === 'login') timeout = e.timeoutMs; }
          }
          expect(open).to.equal(next.guest?.extension ?? null);
          // (a) a guest has endsAt unless its login had timeout 0
          if (next.guest) {
            expect(next.guest.startedAt).to.be.at.most(now);
            expect(next.guest.endsAt === null).to.equal(timeout === 0);
            if (timeout !== null && timeout !== 0) expect(next.guest.endsAt).to.equal(next.guest.startedAt + timeout);
          }
          // (b) a session ending by logout/expire/daily/displace falls back to the owner, else unassigned
          if (ENDING.has(e.type) && has('end-session')) {
            expect(next.guest).to.equal(null);
            expect(stateOf(next)).to.equal(next.owner !== null ? 'owner' : 'unassigned');
          }
          if (e.type === 'logout' || e.type === 'daily-logout') expect(next.guest).to.equal(null);
          if (e.type === 'device-deleted') break; // nothing left to transition
          // (e) no transition makes a device's guest its owner (a session at your own phone)
          const guestIsOwner = (x: DeviceSnapshot) => x.guest !== null && x.guest.extension === x.owner;
          if (guestIsOwner(next)) expect(guestIsOwner(s) && next.owner === s.owner && next.guest?.extension === s.guest?.extension).to.equal(true);
          // (d) a visible change always re-renders and notifies
          if (stateOf(next) !== stateOf(s) || lineOf(next) !== lineOf(s)) expect(has('rerender') && has('notify')).to.equal(true);
          // any change at all is audited; no effects means nothing changed
          if (JSON.stringify(next) !== JSON.stringify(s)) expect(has('audit')).to.equal(true);
          if (effects.length === 0) expect(next).to.deep.equal(s);
          s = next;
        }
      }),
      { numRuns: 500 },
    );
  });

  it('state is derived: guest, else owner, else unassigned', () => {
    fc.assert(fc.property(snapshotArb, (s) => {
      expect(stateOf(s)).to.equal(s.guest ? 'guest' : s.owner !== null ? 'owner' : 'unassigned');
    }));
  });
});
