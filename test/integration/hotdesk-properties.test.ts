/**
 * Hot desking as a whole, property-tested through the HTTP API with the fake clock: random
 * sequences of logins (right and wrong PIN), logouts (admin, with a PIN), sweeps, clock jumps,
 * device edits (owner, hot-desk switch, session timeout), user edits (line, hotdeskAllowed)
 * and user deletion + re-creation, under each multipleLogin rule. After every step:
 *
 * - at most one active session per device; a user's active sessions obey multipleLogin;
 * - a session's device has hot desking on, its user may hot desk and is not the device's owner;
 * - each phone's config carries exactly the line of its current state's user (guest, else
 *   owner, else none), and no other user's SIP password;
 * - the NOTIFYs queued by the step are exactly the phones whose config changed (none for a
 *   no-op, one per phone that changed);
 * - a refused request (4xx) changes no session and no phone; a step that changes a phone is
 *   in the audit log.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { createHarness, type Harness } from '../helpers/harness.js';
import { HOUR, MAC, MINUTE, PIN, seedOffice, SIP_PASSWORD, yealinkConfig, yealinkLine } from '../helpers/hotdesk.js';

const EXTS = ['100', '200', '300', '400'] as const;
type Ext = (typeof EXTS)[number];
/** The Yealink phones of seedOffice (the Polycom is left out: its line is spread over several files). */
const MACS = [MAC.A, MAC.B, MAC.C, MAC.D] as const;
const SEED_USER: Record<Ext, { displayName: string; hotdeskAllowed: boolean }> = {
  '100': { displayName: 'Olivia Owner', hotdeskAllowed: true },
  '200': { displayName: 'Gus Guest', hotdeskAllowed: true },
  '300': { displayName: 'Hana Hot', hotdeskAllowed: true },
  '400': { displayName: 'Nico NoDesk', hotdeskAllowed: false },
};

type Op =
  | { op: 'login'; mac: string; ext: Ext; right: boolean }
  | { op: 'logout'; mac: string }
  | { op: 'logout-pin'; mac: string; ext: Ext }
  | { op: 'advance'; ms: number }
  | { op: 'sweep' }
  | { op: 'owner'; mac: string; ext: Ext | null }
  | { op: 'hotdesk'; mac: string; enabled: boolean }
  | { op: 'timeout'; mac: string; value: string | null }
  | { op: 'allowed'; ext: Ext; allowed: boolean }
  | { op: 'password'; ext: Ext; n: number }
  | { op: 'recreate'; ext: Ext }
  | { op: 'phone-login'; mac: string; ext: Ext; right: boolean }
  | { op: 'phone-logout'; mac: string }
  | { op: 'location'; numbers: readonly string[] };

const mac = fc.constantFrom(...MACS);
const ext = fc.constantFrom(...EXTS);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('login' as const), mac, ext, right: fc.integer({ min: 0, max: 3 }).map((n) => n > 0) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('logout' as const), mac }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('logout-pin' as const), mac, ext }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(MINUTE, 30 * MINUTE, HOUR, 5 * HOUR, 13 * HOUR) }) },
  { weight: 2, arbitrary: fc.constant({ op: 'sweep' as const }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('owner' as const), mac, ext: fc.option(ext, { nil: null }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('hotdesk' as const), mac, enabled: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('timeout' as const), mac, value: fc.constantFrom(null, '0', '1h', '30m') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('allowed' as const), ext, allowed: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('password' as const), ext, n: fc.nat({ max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('recreate' as const), ext }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('phone-login' as const), mac, ext, right: fc.integer({ min: 0, max: 3 }).map((n) => n > 0) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('phone-logout' as const), mac }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('location' as const), numbers: fc.constantFrom(['911'], ['911', '112']) }) },
);

const YEALINK_UA = (m: string) => `Yealink SIP-T46U 108.86.0.90 ${m.replace(/(..)(?!$)/g, '$1:')}`;
/** A phone screen answers 200 whatever happened: its title tells a refusal. */
const screenStatus = (text: string): number => (/<Title>[^<]*failed<\/Title>/.test(text) ? 400 : 200);

interface Row { mac: string; extension: string; owner: string | null; hotdesk: number; allowed: number | null }

async function step(h: Harness, o: Op, passwords: Record<Ext, string>): Promise<number> {
  const auth = (r: ReturnType<Harness['http']['post']>) => r.set('Authorization', h.auth);
  switch (o.op) {
    case 'login':
      return (await auth(h.http.post(`/api/v1/devices/${o.mac}/login`)).send({ extension: o.ext, pin: o.right ? PIN[o.ext] : '000000' })).status;
    case 'logout':
      return (await auth(h.http.post(`/api/v1/devices/${o.mac}/logout`))).status;
    case 'logout-pin':
      return (await auth(h.http.post(`/api/v1/devices/${o.mac}/logout`)).send({ extension: o.ext, pin: PIN[o.ext] })).status;
    case 'advance':
      h.clock.advance(o.ms);
      return 200;
    case 'sweep':
      return (await auth(h.http.post('/api/v1/hotdesk/sweep'))).status;
    case 'owner':
      return (await auth(h.http.patch(`/api/v1/devices/${o.mac}`)).send({ ownerExtension: o.ext })).status;
    case 'hotdesk':
      return (await auth(h.http.patch(`/api/v1/devices/${o.mac}`)).send({ hotdeskEnabled: o.enabled })).status;
    case 'timeout':
      return (await auth(h.http.patch(`/api/v1/devices/${o.mac}`)).send({ sessionTimeout: o.value })).status;
    case 'allowed':
      return (await auth(h.http.patch(`/api/v1/users/${o.ext}`)).send({ hotdeskAllowed: o.allowed })).status;
    case 'password': {
      const sipPassword = `${SIP_PASSWORD(o.ext)}-v${o.n}`;
      const r = await auth(h.http.patch(`/api/v1/users/${o.ext}`)).send({ sipPassword });
      if (r.status === 200) passwords[o.ext] = sipPassword;
      return r.status;
    }
    case 'phone-login': {
      const r = await h.http.get(`/phone/yealink/${o.mac}/login`).set('User-Agent', YEALINK_UA(o.mac))
        .query({ extension: o.ext, pin: o.right ? PIN[o.ext] : '000000' });
      expect(r.status).to.equal(200);
      return screenStatus(r.text);
    }
    case 'phone-logout': {
      // The Logout key of the phone's config (the guest's; absent when nobody sits there), confirmed.
      const url = /^programablekey\.3\.value = (.*)$/m.exec(await yealinkConfig(h, o.mac))?.[1] ?? '';
      const k = /[?&]k=([^&\s]+)/.exec(url)?.[1];
      if (k === undefined) return 200;
      const r = await h.http.get(`/phone/yealink/${o.mac}/logout`).set('User-Agent', YEALINK_UA(o.mac)).query({ k, confirm: 'yes' });
      expect(r.status).to.equal(200);
      return screenStatus(r.text);
    }
    case 'location':
      return (await auth(h.http.patch('/api/v1/locations/1')).send({ emergencyNumbers: o.numbers })).status;
    case 'recreate': {
      const del = await auth(h.http.delete(`/api/v1/users/${o.ext}`));
      expect(del.status, JSON.stringify(del.body)).to.equal(204);
      passwords[o.ext] = SIP_PASSWORD(o.ext);
      const r = await auth(h.http.post('/api/v1/users')).send({ extension: o.ext, sipPassword: passwords[o.ext], pin: PIN[o.ext], ...SEED_USER[o.ext] });
      expect(r.status, JSON.stringify(r.body)).to.equal(201);
      return 204;
    }
  }
}

async function configs(h: Harness): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const m of MACS) out.set(m, await yealinkConfig(h, m));
  return out;
}

function checkInvariants(h: Harness, maxPerUser: number, cfgs: Map<string, string>, passwords: Record<Ext, string>): void {
  const active = h.db.prepare(`SELECT s.mac, s.extension, d.owner_extension AS owner, d.hotdesk_enabled AS hotdesk, u.hotdesk_allowed AS allowed
    FROM sessions s JOIN devices d ON d.mac = s.mac LEFT JOIN users u ON u.extension = s.extension WHERE s.ended_at IS NULL`).all() as Row[];
  const perMac = new Map<string, number>();
  const perUser = new Map<string, number>();
  for (const s of active) {
    perMac.set(s.mac, (perMac.get(s.mac) ?? 0) + 1);
    perUser.set(s.extension, (perUser.get(s.extension) ?? 0) + 1);
    expect(s.hotdesk, `session on ${s.mac} with hot desking off`).to.equal(1);
    expect(s.allowed, `guest ${s.extension} may not hot desk (or is gone)`).to.equal(1);
    expect(s.extension, `guest ${s.extension} is the owner of ${s.mac}`).to.not.equal(s.owner);
  }
  for (const [m, n] of perMac) expect(n, `active sessions on ${m}`).to.equal(1);
  for (const [e, n] of perUser) expect(n, `active sessions of ${e}`).to.be.at.most(maxPerUser);
  const owners = new Map((h.db.prepare('SELECT mac, owner_extension AS owner FROM devices').all() as { mac: string; owner: string | null }[]).map((r) => [r.mac, r.owner]));
  for (const m of MACS) {
    const guest = active.find((s) => s.mac === m)?.extension ?? null;
    const expected = guest ?? owners.get(m) ?? null;
    const cfg = cfgs.get(m)!;
    expect(yealinkLine(cfg), `line of ${m}`).to.equal(expected);
    for (const e of EXTS) {
      expect(cfg.includes(`= ${passwords[e]}\n`), `${m} carries ${e}'s password`).to.equal(e === expected);
    }
  }
}

const outbox = (h: Harness): string[] => (h.db.prepare('SELECT mac FROM outbox ORDER BY mac').all() as { mac: string }[]).map((r) => r.mac);
/** What a refusal must leave alone: every session, and every device's owner, switch and config version. */
const sessionRows = (h: Harness): string => JSON.stringify([
  h.db.prepare('SELECT * FROM sessions ORDER BY id').all(),
  h.db.prepare('SELECT mac, owner_extension, hotdesk_enabled, session_timeout, config_version FROM devices ORDER BY mac').all(),
]);
const auditCount = (h: Harness): number => (h.db.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n;

for (const [mode, config, maxPerUser] of [
  ['logout-previous', { sessionTimeout: '2h' }, 1],
  ['deny', { multipleLogin: 'deny', sessionTimeout: '2h' }, 1],
  ['allow (2), daily logout at 18:00', { multipleLogin: 'allow', maxDevicesPerUser: 2, dailyLogoutAt: '18:00' }, 2],
] as const) {
  describe(`hot desking properties: multipleLogin ${mode}`, function () {
    this.timeout(240_000);

    it('every step keeps the invariants, and queues a NOTIFY for exactly the phones whose config changed', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 18 }), async (ops) => {
          const h = createHarness({ config: { hotdesk: config, provisioning: { baseUrl: 'http://prov.test:8080/', timeZone: 'Europe/Paris' } } });
          try {
            await seedOffice(h);
            const passwords = Object.fromEntries(EXTS.map((e) => [e, SIP_PASSWORD(e)])) as Record<Ext, string>;
            let before = await configs(h);
            checkInvariants(h, maxPerUser, before, passwords);
            for (const [i, o] of ops.entries()) {
              h.db.prepare('DELETE FROM outbox').run();
              const sessionsBefore = sessionRows(h);
              const auditBefore = auditCount(h);
              const status = await step(h, o, passwords);
              const where = `step ${i} ${JSON.stringify(o)} → ${status}`;
              expect(status, where).to.be.oneOf([200, 201, 204, 400, 401, 403, 409, 423]);
              await new Promise((r) => setImmediate(r));
              const queued = outbox(h).filter((m) => (MACS as readonly string[]).includes(m)); // the Polycom only follows location edits
              const after = await configs(h);
              const changed = MACS.filter((m) => before.get(m) !== after.get(m)).sort();
              expect(queued, `${where}: NOTIFYs queued vs configs changed`).to.deep.equal(changed);
              if (status >= 400) expect(sessionRows(h), `${where}: a refusal changed sessions or devices`).to.equal(sessionsBefore);
              if (changed.length > 0) expect(auditCount(h), `${where}: not audited`).to.be.greaterThan(auditBefore);
              try {
                checkInvariants(h, maxPerUser, after, passwords);
              } catch (err) {
                (err as Error).message = `${where}: ${(err as Error).message}`;
                throw err;
              }
              before = after;
            }
          } finally {
            h.destroy();
          }
        }),
        { numRuns: Number(process.env.HOTDESK_PROPERTY_RUNS ?? 6) },
      );
    });
  });
}
