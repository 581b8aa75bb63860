/** Hot-desk test fixtures: a small office seeded through the admin API, and shortcuts. */
import { expect } from 'chai';
import type { Harness } from './harness.js';

/** Owner 100 has desk A; 200 and 300 are hot-deskers; 400 may not hot desk. */
export const PIN = { '100': '731904', '200': '582736', '300': '946152', '400': '318274' } as const;
export const MAC = {
  /** Yealink owned by 100, hot desking on. */
  A: '001565aabb01',
  /** Yealink, nobody's, hot desking on. */
  B: '001565aabb02',
  /** Yealink owned by 300, hot desking off. */
  C: '001565aabb03',
  /** Yealink, nobody's, hot desking on. */
  D: '001565aabb04',
  /** Polycom, nobody's, hot desking on. */
  P: '0004f2aabb05',
} as const;
export const SIP_PASSWORD = (ext: string) => `sip-secret-${ext}`;

type Res = { status: number; body: unknown };
export const ok = (r: Res, status = 200) => expect(r.status, JSON.stringify(r.body)).to.equal(status);

export async function seedOffice(h: Harness): Promise<void> {
  const post = (path: string, body: object) => h.http.post(path).set('Authorization', h.auth).send(body);
  ok(await post('/api/v1/locations', { name: 'HQ 3rd floor', emergencyNumbers: ['911'] }), 201);
  for (const [ext, name] of [['100', 'Olivia Owner'], ['200', 'Gus Guest'], ['300', 'Hana Hot'], ['400', 'Nico NoDesk']] as const) {
    ok(await post('/api/v1/users', {
      extension: ext, displayName: name, sipPassword: SIP_PASSWORD(ext), pin: PIN[ext], hotdeskAllowed: ext !== '400',
    }), 201);
  }
  const devices = [
    { mac: MAC.A, vendor: 'yealink', model: 'T46U', ownerExtension: '100', hotdeskEnabled: true, locationId: 1, label: 'Desk 1' },
    { mac: MAC.B, vendor: 'yealink', model: 'T46U', hotdeskEnabled: true, locationId: 1, label: 'Desk 2' },
    { mac: MAC.C, vendor: 'yealink', model: 'T46U', ownerExtension: '300', hotdeskEnabled: false, locationId: 1, label: 'Desk 3' },
    { mac: MAC.D, vendor: 'yealink', model: 'T46U', hotdeskEnabled: true, locationId: 1, label: 'Desk 4' },
    { mac: MAC.P, vendor: 'polycom', model: 'VVX450', hotdeskEnabled: true, locationId: 1, label: 'Desk <5> & "co"' },
  ];
  for (const d of devices) ok(await post('/api/v1/devices', d), 201);
  // Devices were just created: start each test with an empty resync queue.
  h.db.prepare('DELETE FROM outbox').run();
}

export const login = (h: Harness, mac: string, extension: string, pin: string) =>
  h.http.post(`/api/v1/devices/${mac}/login`).set('Authorization', h.auth).send({ extension, pin });

export const logout = (h: Harness, mac: string, body?: object) => {
  const req = h.http.post(`/api/v1/devices/${mac}/logout`).set('Authorization', h.auth);
  return body ? req.send(body) : req;
};

export const device = async (h: Harness, mac: string) => {
  const r = await h.http.get(`/api/v1/devices/${mac}`).set('Authorization', h.auth);
  ok(r);
  return r.body as { state: string; guestExtension: string | null; ownerExtension: string | null; session: { endsAt: string | null } | null };
};

export interface SessionView {
  mac: string;
  extension: string;
  active: boolean;
  startedAt: string;
  endsAt: string | null;
  endedAt: string | null;
  endReason: string | null;
}

export const sessions = async (h: Harness, query: Record<string, string> = {}): Promise<SessionView[]> => {
  const r = await h.http.get('/api/v1/sessions').query(query).set('Authorization', h.auth);
  ok(r);
  return (r.body as { sessions: SessionView[] }).sessions;
};

const colons = (mac: string) => mac.replace(/(..)(?!$)/g, '$1:');

/** The config file a Yealink T46U with this MAC downloads. */
export const yealinkConfig = async (h: Harness, mac: string): Promise<string> => {
  const r = await h.http.get(`/${mac}.cfg`).set('User-Agent', `Yealink SIP-T46U 108.86.0.90 ${colons(mac)}`);
  expect(r.status).to.equal(200);
  return r.text;
};

/** The SIP user of line 1 in a Yealink config, or null when the line is off. */
export const yealinkLine = (cfg: string): string | null => {
  const m = /^account\.1\.user_name = (.*)$/m.exec(cfg);
  return m && m[1] !== '%NULL%' ? m[1]! : null;
};

export const outboxMacs = (h: Harness): string[] =>
  (h.db.prepare('SELECT mac FROM outbox ORDER BY mac').all() as { mac: string }[]).map((r) => r.mac);

export const configVersion = (h: Harness, mac: string): number =>
  (h.db.prepare('SELECT config_version AS v FROM devices WHERE mac = ?').get(mac) as { v: number }).v;

export const HOUR = 3_600_000;
export const MINUTE = 60_000;
