/**
 * GET /devices/summary: what the dashboard and locations page show of the fleet, counted on the
 * server. Its counts must agree with the device list (the same definitions, device by device),
 * its samples stay at 50 however many devices match, and only admin and readonly may read it.
 */
import { expect } from 'chai';
import type { Mac } from '../../server/domain/mac.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { HOUR, MAC, MINUTE, login, ok, PIN, seedOffice, yealinkConfig } from '../helpers/hotdesk.js';

const N = 300;
const DAY_MS = 24 * HOUR;

interface Listed {
  mac: string;
  label: string | null;
  state: 'owner' | 'guest' | 'unassigned';
  locationId: number | null;
  warnings: string[];
  lastFetch: { at: string } | null;
  sync: { stale: boolean; configVersion: number; fetchedVersion: number | null };
}

interface Summary {
  total: number;
  byState: Record<'owner' | 'guest' | 'unassigned', number>;
  byLocation: Array<{ locationId: number | null; devices: number }>;
  notSeen: { count: number; sample: Array<{ mac: string; label: string | null; lastFetch: { at: string } | null }> };
  stale: { count: number; sample: Array<{ mac: string; label: string | null; sync: { configVersion: number | null; fetchedVersion: number | null } }> };
  warnings: { count: number; sample: Array<{ mac: string; label: string | null; warnings: string[] }> };
}

describe('device summary', () => {
  let h: Harness;
  let macs: string[];
  before(async () => {
    h = createHarness();
    await seedOffice(h);
    ok(await h.http.post('/api/v1/locations').set('Authorization', h.auth).send({ name: 'Annex' }), 201);
    // A few hundred more: every third at HQ, every fifth at the Annex, the rest hot desks without one (a warning).
    macs = [];
    const rows = ['mac,vendor,model,label,ownerExtension,hotdeskEnabled,location'];
    for (let i = 0; i < N; i++) {
      const mac = `001565${(0x100000 + i).toString(16).slice(-6)}`;
      macs.push(mac);
      const location = i % 3 === 0 ? 'HQ 3rd floor' : i % 5 === 0 ? 'Annex' : '';
      rows.push(`${mac},yealink,T46U,Desk ${i},${i % 7 === 0 ? '100' : ''},${i % 2 === 0 ? 'true' : 'false'},${location}`);
    }
    const imported = await h.http.post('/api/v1/devices/import').set('Authorization', h.auth).type('text/csv').send(`${rows.join('\n')}\n`);
    ok(imported, 201);
    // A guest, phones fetching two days ago and just now, and 60 NOTIFYs answered but never followed by a fetch.
    for (const mac of macs.slice(0, 40)) await yealinkConfig(h, mac);
    h.clock.advance(2 * DAY_MS);
    for (const mac of [...macs.slice(20, 30), MAC.A, MAC.B]) await yealinkConfig(h, mac);
    ok(await login(h, MAC.B, '200', PIN['200']));
    for (const mac of macs.slice(100, 160)) {
      h.ctx.stores.notifyLog.insert({
        mac: mac as Mac, at: h.clock.now(), event: 'check-sync', target: 'sip:x@192.0.2.1', status: 200, reason: 'OK',
        transmissions: 1, elapsedMs: 5, configVersion: 1, outcome: 'ok',
      });
    }
    h.clock.advance(10 * MINUTE);
  });
  after(() => h.destroy());

  const get = (path: string, auth = h.auth) => h.http.get(`/api/v1${path}`).set('Authorization', auth);
  const summary = async (): Promise<Summary> => {
    const r = await get('/devices/summary');
    ok(r);
    return r.body as Summary;
  };
  const listAll = async (): Promise<Listed[]> => {
    const r = await get('/devices?limit=10000');
    ok(r);
    return r.body.devices as Listed[];
  };

  it('counts what the device list shows, by state, location, last fetch, sync and warnings', async () => {
    const [s, list] = [await summary(), await listAll()];
    const now = h.clock.now();
    const where = <T>(f: (d: Listed) => boolean) => list.filter(f) as unknown as T[];
    expect(s.total).to.equal(list.length).and.to.equal(N + 5);
    expect(s.byState).to.deep.equal({
      owner: where((d) => d.state === 'owner').length,
      guest: where((d) => d.state === 'guest').length,
      unassigned: where((d) => d.state === 'unassigned').length,
    });
    expect(s.byState.guest).to.equal(1);
    const byLocation = new Map<number | null, number>();
    for (const d of list) byLocation.set(d.locationId, (byLocation.get(d.locationId) ?? 0) + 1);
    expect(new Map(s.byLocation.map((l) => [l.locationId, l.devices]))).to.deep.equal(byLocation);
    expect(s.byLocation.map((l) => l.locationId)).to.have.members([1, 2, null]);
    expect(s.byLocation.map((l) => l.devices), 'largest first').to.deep.equal(s.byLocation.map((l) => l.devices).sort((a, b) => b - a));

    const notSeen = list.filter((d) => !d.lastFetch || now - Date.parse(d.lastFetch.at) > DAY_MS);
    const stale = list.filter((d) => d.sync.stale === true);
    const warned = list.filter((d) => d.warnings.length > 0);
    expect(s.notSeen.count).to.equal(notSeen.length).and.to.equal(N + 5 - 12);
    expect(s.stale.count).to.equal(stale.length).and.to.equal(60);
    expect(s.warnings.count).to.equal(warned.length).and.to.be.greaterThan(50);

    // Samples: the first 50 in list order, with the fields the pages show and no more.
    expect(s.notSeen.sample).to.deep.equal(notSeen.slice(0, 50).map((d) => ({ mac: d.mac, label: d.label, lastFetch: d.lastFetch && { at: d.lastFetch.at } })));
    expect(s.stale.sample).to.deep.equal(stale.slice(0, 50).map((d) => ({ mac: d.mac, label: d.label, sync: { configVersion: d.sync.configVersion, fetchedVersion: d.sync.fetchedVersion } })));
    expect(s.warnings.sample).to.deep.equal(warned.slice(0, 50).map((d) => ({ mac: d.mac, label: d.label, warnings: d.warnings })));
    expect(s.notSeen.sample.some((d) => d.lastFetch !== null), 'a phone that fetched two days ago').to.equal(true);
  });

  it('keeps each sample to 50, however many match', async () => {
    const s = await summary();
    for (const part of [s.notSeen, s.stale, s.warnings]) {
      expect(part.count).to.be.greaterThan(50);
      expect(part.sample).to.have.length(50);
    }
  });

  it('is not taken for a MAC by /devices/:mac', async () => {
    const r = await get('/devices/summary');
    expect(r.body).to.not.have.property('error');
    expect(r.body).to.have.property('total');
  });

  it('answers admin and readonly; pbx gets 403', async () => {
    const token = async (role: string) => {
      const r = await h.http.post('/api/v1/tokens').set('Authorization', h.auth).send({ name: `t-${role}`, role });
      ok(r, 201);
      return `Bearer ${r.body.token as string}`;
    };
    ok(await get('/devices/summary', await token('readonly')));
    const pbx = await get('/devices/summary', await token('pbx'));
    expect(pbx.status, JSON.stringify(pbx.body)).to.equal(403);
  });
});

describe('device summary over a large fleet', () => {
  it('lets other work run between its chunks, and counts every device once', async () => {
    const h = createHarness();
    try {
      const devices = 2_500; // three chunks
      for (let i = 0; i < devices; i++) {
        h.ctx.stores.devices.insert(
          { mac: `0015650${i.toString(16).padStart(5, '0')}` as Mac, vendor: 'yealink', model: 'T46U', label: null, ownerExtension: null, hotdeskEnabled: false, locationId: null, sipContact: null, sessionTimeout: null },
          h.clock.now(),
        );
      }
      // A phone request arriving meanwhile is a callback like this one: it must not wait for the whole pass.
      let ranMeanwhile = false;
      const pending = h.ctx.devices.summary();
      setImmediate(() => (ranMeanwhile = true));
      const s = await pending;
      expect(ranMeanwhile, 'a callback queued after the summary started ran before it finished').to.equal(true);
      expect(s.total).to.equal(devices);
      expect(s.byState).to.deep.equal({ owner: 0, guest: 0, unassigned: devices });
      expect(s.byLocation).to.deep.equal([{ locationId: null, devices }]);
      expect(s.notSeen.count).to.equal(devices);
    } finally {
      h.destroy();
    }
  });
});
