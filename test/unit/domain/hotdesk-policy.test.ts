import { expect } from 'chai';
import fc from 'fast-check';
import { transition, type DeviceEvent, type DeviceSnapshot } from '../../../server/domain/device-state.js';
import {
  decideLogin, maxGuestDevices, nextDailyLogout, type HotdeskPolicy, type MultipleLogin,
} from '../../../server/domain/hotdesk-policy.js';

const H = 3_600_000;
const T0 = Date.UTC(2025, 0, 1, 10, 0);
const sessions = (...macs: string[]) => macs.map((mac, i) => ({ mac, startedAt: T0 + i }));

describe('hotdesk-policy decideLogin', () => {
  it('logout-previous displaces every other device, oldest first', () => {
    const d = decideLogin({ multipleLogin: 'logout-previous', maxDevicesPerUser: 4 }, [{ mac: 'b', startedAt: 2 }, { mac: 'a', startedAt: 1 }], 'c');
    expect(d).to.deep.equal({ allow: true, displace: ['a', 'b'] });
  });
  it('deny refuses while the user sits elsewhere', () => {
    const p: HotdeskPolicy = { multipleLogin: 'deny', maxDevicesPerUser: 4 };
    expect(decideLogin(p, sessions('a'), 'b')).to.deep.equal({ allow: false, reason: 'already-logged-in' });
    expect(decideLogin(p, [], 'b')).to.deep.equal({ allow: true, displace: [] });
  });
  it('allow refuses at the device limit', () => {
    const p: HotdeskPolicy = { multipleLogin: 'allow', maxDevicesPerUser: 2 };
    expect(decideLogin(p, sessions('a'), 'c')).to.deep.equal({ allow: true, displace: [] });
    expect(decideLogin(p, sessions('a', 'b'), 'c')).to.deep.equal({ allow: false, reason: 'device-limit' });
  });
  it('a session on the target itself does not count', () => {
    expect(decideLogin({ multipleLogin: 'deny', maxDevicesPerUser: 1 }, sessions('a'), 'a')).to.deep.equal({ allow: true, displace: [] });
    expect(decideLogin({ multipleLogin: 'allow', maxDevicesPerUser: 1 }, sessions('a'), 'a')).to.deep.equal({ allow: true, displace: [] });
    expect(decideLogin({ multipleLogin: 'logout-previous', maxDevicesPerUser: 1 }, sessions('a', 'b'), 'a')).to.deep.equal({ allow: true, displace: ['b'] });
  });
});

// ---- many devices, many users ------------------------------------------------------------

type World = Map<string, DeviceSnapshot>;
type Op =
  | { kind: 'login'; user: number; device: number; timeoutMs: number }
  | { kind: 'logout'; device: number }
  | { kind: 'sweep' };

/** The hotdesk service in miniature: dry-run the login, consult the policy, displace, apply. */
function applyLogin(world: World, policy: HotdeskPolicy, user: string, mac: string, now: number, timeoutMs: number): string {
  const target = world.get(mac);
  if (!target) throw new Error(`no device ${mac}`);
  const dry = transition(target, { type: 'login', extension: user, now, timeoutMs });
  if (!dry.ok) return dry.reason;
  if (!dry.effects.some((e) => e.type === 'start-session')) { world.set(mac, dry.next); return 'no-session'; }
  const active = [...world].flatMap(([m, s]) => (s.guest?.extension === user ? [{ mac: m, startedAt: s.guest.startedAt }] : []));
  const decision = decideLogin(policy, active, mac);
  if (!decision.allow) return decision.reason;
  for (const m of decision.displace) {
    const r = transition(world.get(m) ?? target, { type: 'displace', extension: user });
    expect(r.ok && r.effects).to.deep.include({ type: 'end-session', extension: user, reason: 'displaced' });
    if (r.ok) world.set(m, r.next);
  }
  world.set(mac, dry.next);
  return 'started';
}

function applyAll(world: World, event: DeviceEvent): void {
  for (const [mac, s] of world) {
    const r = transition(s, event);
    if (r.ok) world.set(mac, r.next);
  }
}

const opArb = (devices: number, users: number): fc.Arbitrary<Op> => fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('login' as const), user: fc.nat(users - 1), device: fc.nat(devices - 1), timeoutMs: fc.constantFrom(0, H, 4 * H) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('logout' as const), device: fc.nat(devices - 1) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'sweep' as const }) },
);
const scenarioArb = fc.record({ devices: fc.integer({ min: 1, max: 6 }), users: fc.integer({ min: 1, max: 5 }) }).chain(({ devices, users }) =>
  fc.record({
    policy: fc.record({ multipleLogin: fc.constantFrom<MultipleLogin>('logout-previous', 'deny', 'allow'), maxDevicesPerUser: fc.integer({ min: 1, max: 4 }) }),
    owners: fc.array(fc.option(fc.nat(users - 1), { nil: null }), { minLength: devices, maxLength: devices }),
    hotdesk: fc.array(fc.boolean(), { minLength: devices, maxLength: devices }),
    ops: fc.array(fc.tuple(fc.nat({ max: 3 * H }), opArb(devices, users)), { maxLength: 60 }),
    users: fc.constant(users),
  }));

describe('hotdesk-policy across devices', () => {
  it('a user is never a guest on more devices than the policy allows', () => {
    fc.assert(
      fc.property(scenarioArb, ({ policy, owners, hotdesk, ops, users }) => {
        const world: World = new Map(owners.map((o, i) => [`mac${i}`, { owner: o === null ? null : `u${o}`, guest: null, hotdeskEnabled: hotdesk[i] ?? true }]));
        const limit = maxGuestDevices(policy);
        let now = T0;
        for (const [dt, op] of ops) {
          now += dt;
          if (op.kind === 'login') {
            const user = `u${op.user}`;
            const outcome = applyLogin(world, policy, user, `mac${op.device}`, now, op.timeoutMs);
            if (outcome === 'started' && policy.multipleLogin !== 'allow') {
              expect([...world.values()].filter((s) => s.guest?.extension === user)).to.have.length(1);
            }
            if (outcome === 'already-logged-in') expect(policy.multipleLogin).to.equal('deny');
            if (outcome === 'device-limit') expect(policy.multipleLogin).to.equal('allow');
          } else if (op.kind === 'logout') {
            const mac = `mac${op.device}`;
            const r = transition(world.get(mac) ?? { owner: null, guest: null, hotdeskEnabled: true }, { type: 'logout', reason: 'logout' });
            if (r.ok) world.set(mac, r.next);
          } else {
            applyAll(world, { type: 'expire', now });
          }
          for (let u = 0; u < users; u++) {
            const count = [...world.values()].filter((s) => s.guest?.extension === `u${u}`).length;
            expect(count, `u${u} under ${policy.multipleLogin}`).to.be.at.most(limit);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

// ---- daily logout ------------------------------------------------------------------------

const iso = (t: number) => new Date(t).toISOString();
const NY = 'America/New_York';

describe('hotdesk-policy nextDailyLogout', () => {
  it('UTC: later today, else tomorrow; strictly after now', () => {
    expect(iso(nextDailyLogout(T0, '18:00', 'UTC'))).to.equal('2025-01-01T18:00:00.000Z');
    expect(iso(nextDailyLogout(T0, '10:00', 'UTC'))).to.equal('2025-01-02T10:00:00.000Z');
    expect(iso(nextDailyLogout(T0, '09:59', 'UTC'))).to.equal('2025-01-02T09:59:00.000Z');
    expect(iso(nextDailyLogout(T0 - 1, '10:00', 'UTC'))).to.equal('2025-01-01T10:00:00.000Z');
    expect(iso(nextDailyLogout(Date.UTC(2024, 11, 31, 23, 59), '00:00', 'UTC'))).to.equal('2025-01-01T00:00:00.000Z');
  });

  it('New York, spring forward (2025-03-09)', () => {
    // 18:00 EST on the 8th, then 18:00 EDT on the 9th: 23 hours apart.
    expect(iso(nextDailyLogout(Date.UTC(2025, 2, 8, 17), '18:00', NY))).to.equal('2025-03-08T23:00:00.000Z');
    expect(iso(nextDailyLogout(Date.UTC(2025, 2, 8, 23, 30), '18:00', NY))).to.equal('2025-03-09T22:00:00.000Z');
    // 02:30 does not exist that night: it happens at 03:30 EDT.
    expect(iso(nextDailyLogout(Date.UTC(2025, 2, 9, 5), '02:30', NY))).to.equal('2025-03-09T07:30:00.000Z');
    expect(iso(nextDailyLogout(Date.UTC(2025, 2, 9, 7, 30), '02:30', NY))).to.equal('2025-03-10T06:30:00.000Z');
  });

  it('New York, fall back (2025-11-02)', () => {
    expect(iso(nextDailyLogout(Date.UTC(2025, 10, 1, 23), '18:00', NY))).to.equal('2025-11-02T23:00:00.000Z');
    // 01:30 happens twice: the first one (EDT) counts, and only once that day.
    expect(iso(nextDailyLogout(Date.UTC(2025, 10, 2, 4), '01:30', NY))).to.equal('2025-11-02T05:30:00.000Z');
    expect(iso(nextDailyLogout(Date.UTC(2025, 10, 2, 5, 45), '01:30', NY))).to.equal('2025-11-03T06:30:00.000Z');
  });

  it('refuses a malformed time or zone', () => {
    for (const bad of ['24:00', '7:00', '12:60', '', '12:00:00']) expect(() => nextDailyLogout(T0, bad, 'UTC'), bad).to.throw(RangeError);
    expect(() => nextDailyLogout(T0, '12:00', 'Mars/Olympus')).to.throw(RangeError);
  });

  it('is always ahead, within a day (+DST), and lands on HH:MM local unless in a gap', () => {
    const zones = ['UTC', NY, 'Europe/Berlin', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/St_Johns'];
    const local = (t: number, zone: string) =>
      new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(t);
    const offsetName = (t: number, zone: string) =>
      new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' }).format(t);
    fc.assert(fc.property(
      fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2030, 0, 1) }),
      fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.constantFrom(...zones),
      (now, h, m, zone) => {
        const hhmm = `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
        const t = nextDailyLogout(now, hhmm, zone);
        expect(t).to.be.greaterThan(now);
        expect(t - now).to.be.at.most(26 * H);
        if (local(t, zone) !== hhmm) expect(offsetName(t, zone), 'only just after a DST jump').to.not.equal(offsetName(t - 3 * H, zone));
      },
    ), { numRuns: 500 });
  });
});
