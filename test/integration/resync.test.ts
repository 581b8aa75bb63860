/**
 * Resync end to end through the real service graph (temp SQLite, supertest) with a recording
 * fake notifier and fake time: what a change sends, where, with which credentials, how answers
 * are handled, the throttle, and the closed loop each device shows.
 */
import { expect } from 'chai';
import { createResyncDispatcher } from '../../server/context.js';
import type { ResyncDispatcher } from '../../server/services/resync.js';
import { RecordingNotifier } from '../helpers/fake-notifier.js';
import { createHarness, type Harness } from '../helpers/harness.js';
import { MAC, MINUTE, PIN, SIP_PASSWORD, login, ok, outboxMacs, seedOffice, yealinkConfig } from '../helpers/hotdesk.js';
import { ManualTimers } from '../helpers/manual-timers.js';

interface World {
  h: Harness;
  timers: ManualTimers;
  phones: RecordingNotifier;
  dispatcher: ResyncDispatcher;
}

const worlds: World[] = [];

function world(config: Record<string, unknown> = {}): World {
  const h = createHarness({ config: { sip: { phonePort: 5062, maxNotifiesPerSecond: 20, staleAfter: '5m', ...config } } });
  const timers = new ManualTimers(h.clock);
  const phones = new RecordingNotifier(h.clock);
  const dispatcher = createResyncDispatcher(h.ctx, phones, { timers });
  const w = { h, timers, phones, dispatcher };
  worlds.push(w);
  return w;
}

const api = (h: Harness) => ({
  get: (path: string) => h.http.get(path).set('Authorization', h.auth),
  post: (path: string, body: object = {}) => h.http.post(path).set('Authorization', h.auth).send(body),
  patch: (path: string, body: object) => h.http.patch(path).set('Authorization', h.auth).send(body),
});

type Sync = {
  configVersion: number; fetchedVersion: number | null; fetchedAfterNotify: boolean; stale: boolean; pending: boolean;
  lastNotify: { status: number; event: string; reason: string } | null;
};
const syncOf = async (h: Harness, mac: string): Promise<Sync> => {
  const r = await api(h).get(`/api/v1/devices/${mac}`);
  ok(r);
  return (r.body as { sync: Sync }).sync;
};
const notifyLog = (h: Harness, mac: string) =>
  h.db.prepare('SELECT status, outcome, reason, event, target FROM notify_log WHERE mac = ? ORDER BY id').all(mac) as
    Array<{ status: number; outcome: string; reason: string; event: string; target: string }>;

/** seedOffice + desk A's phone has fetched its config (owner 100's line) from 127.0.0.1. */
async function office(w: World): Promise<void> {
  await seedOffice(w.h);
  await yealinkConfig(w.h, MAC.A);
  w.h.ctx.recorder.flush();
  w.h.db.prepare('DELETE FROM outbox').run();
  w.dispatcher.start();
}

describe('resync: the NOTIFY outbox', () => {
  afterEach(async () => {
    for (const w of worlds.splice(0)) {
      await w.dispatcher.stop(0);
      w.h.destroy();
    }
  });

  it('a new owner sends exactly one NOTIFY: Yealink event, the line the phone runs as Request-URI user, last fetch IP on sip.phonePort', async () => {
    const w = world();
    await office(w);
    ok(await api(w.h).patch(`/api/v1/devices/${MAC.A}`, { ownerExtension: '300' }));
    await w.timers.advance(1000);
    expect(w.phones.sent).to.have.length(1);
    const { req } = w.phones.sent[0]!;
    expect(req.target).to.deep.equal({ host: '127.0.0.1', port: 5062, transport: 'udp' });
    expect(req.user).to.equal('100');
    expect(req.auth).to.deep.equal({ username: '100', password: SIP_PASSWORD('100') });
    expect(req.event).to.equal('check-sync;reboot=true');
    expect(req.proxy).to.equal(null);
    expect(outboxMacs(w.h)).to.deep.equal([]);
    const sync = await syncOf(w.h, MAC.A);
    expect(sync).to.include({ pending: false, fetchedAfterNotify: false, stale: false });
    expect(sync.lastNotify).to.include({ status: 200, event: 'check-sync;reboot=true' });
    expect((await w.h.ctx.metrics.scrape()).body).to.match(/^deskprov_notifies_total\{result="ok"\} 1$/m);
  });

  it('a resync with nothing changed: the phone fetching the same config again shows as back after the NOTIFY', async () => {
    const w = world();
    await office(w);
    expect((await api(w.h).post('/api/v1/resync', { macs: [MAC.A] })).body).to.deep.equal({ queued: 1 });
    await w.timers.advance(1000);
    expect(w.phones.sent).to.have.length(1);
    expect(await syncOf(w.h, MAC.A)).to.include({ fetchedAfterNotify: false });
    w.h.clock.advance(2000);
    // The same file, the same answer: counted on its earlier row (fetch-folds.ts), not a row of its own.
    await yealinkConfig(w.h, MAC.A);
    expect(await syncOf(w.h, MAC.A)).to.include({ fetchedAfterNotify: true, stale: false });
    const d = (await api(w.h).get(`/api/v1/devices/${MAC.A}`)).body as { lastFetch: { at: string; repeats: number } };
    expect(d.lastFetch).to.include({ at: new Date(w.h.clock.now()).toISOString(), repeats: 1 });
  });

  it('each vendor gets its Event; sipContact wins over the fetch address, with its transport; a config override wins', async () => {
    const contacts: Record<string, [string, string]> = {
      '001565000001': ['yealink', 'sip:10.0.0.1:5060'],
      '0004f2000002': ['polycom', 'sip:10.0.0.2;transport=tcp'],
      '00a859000003': ['sangoma-p', 'sip:10.0.0.3:5070'],
      '00a859000004': ['sangoma-s', 'sip:phone4.example.com:5080;transport=tls'],
    };
    const run = async (w: World) => {
      for (const [mac, [vendor, sipContact]] of Object.entries(contacts)) ok(await api(w.h).post('/api/v1/devices', { mac, vendor, sipContact }), 201);
      w.dispatcher.start();
      expect((await api(w.h).post('/api/v1/resync', { all: true })).body).to.deep.equal({ queued: 4 });
      await w.timers.advance(1000);
      return new Map(w.phones.sent.map((s) => [s.req.target.host, s.req]));
    };
    const sent = await run(world());
    expect(sent.size).to.equal(4);
    expect(sent.get('10.0.0.1')).to.deep.include({ event: 'check-sync;reboot=true', user: 'anonymous', target: { host: '10.0.0.1', port: 5060, transport: 'udp' } });
    expect(sent.get('10.0.0.2')).to.deep.include({ event: 'check-sync', target: { host: '10.0.0.2', port: 5060, transport: 'tcp' } });
    expect(sent.get('10.0.0.3')).to.deep.include({ event: 'check-sync', target: { host: '10.0.0.3', port: 5070, transport: 'udp' } });
    expect(sent.get('phone4.example.com')).to.deep.include({ event: 'check-sync;reboot=true', target: { host: 'phone4.example.com', port: 5080, transport: 'tls' } });

    const overridden = await run(world({ events: { polycom: 'check-sync;reboot=true' }, outboundProxy: 'sip:pbx.test:5060;transport=tcp' }));
    expect(overridden.get('10.0.0.2')?.event).to.equal('check-sync;reboot=true');
    expect(overridden.get('10.0.0.1')?.event).to.equal('check-sync;reboot=true');
    expect(overridden.get('10.0.0.3')?.proxy).to.deep.equal({ host: 'pbx.test', port: 5060, transport: 'tcp' });
  });

  it('changes to one device while its NOTIFY waits for the throttle collapse into one NOTIFY', async () => {
    const w = world({ maxNotifiesPerSecond: 1 });
    await office(w);
    ok(await api(w.h).patch(`/api/v1/devices/${MAC.P}`, { sipContact: 'sip:10.9.9.9' }));
    ok(await api(w.h).post(`/api/v1/devices/${MAC.P}/resync`), 202); // takes this second's token
    for (const label of ['a', 'b', 'c']) ok(await api(w.h).patch(`/api/v1/devices/${MAC.A}`, { label }));
    ok(await api(w.h).post(`/api/v1/devices/${MAC.A}/resync`), 202);
    expect(outboxMacs(w.h)).to.deep.equal([MAC.A]);
    await w.timers.advance(5000);
    expect(w.phones.sent.map((s) => s.req.target.host)).to.deep.equal(['10.9.9.9', '127.0.0.1']);
  });

  it('an edit that changes nothing a phone gets sends no NOTIFY (which would reboot it) and keeps its config version', async () => {
    const w = world();
    await office(w);
    const versions = async () => Object.fromEntries(await Promise.all(Object.values(MAC).map(async (m) => [m, (await syncOf(w.h, m)).configVersion] as const)));
    const start = await versions();
    const auditLines = () => (w.h.db.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n;
    const lines = auditLines();
    ok(await api(w.h).patch(`/api/v1/devices/${MAC.A}`, {}));
    ok(await api(w.h).patch(`/api/v1/devices/${MAC.A}`, { label: 'Desk 1', ownerExtension: '100' }));
    ok(await api(w.h).patch('/api/v1/locations/1', {}));
    ok(await api(w.h).patch('/api/v1/locations/1', { name: 'HQ 3rd floor', emergencyNumbers: ['911'] }));
    expect(auditLines(), 'no-op edits write no audit line').to.equal(lines);
    // Saved, but in no file: the street address (no shipped template prints it), where NOTIFYs go.
    ok(await api(w.h).patch('/api/v1/locations/1', { address: '1 Main St, Springfield' }));
    ok(await api(w.h).patch(`/api/v1/devices/${MAC.B}`, { sipContact: 'sip:10.1.2.3' }));
    expect((await api(w.h).get('/api/v1/locations/1')).body).to.include({ address: '1 Main St, Springfield' });
    await w.timers.advance(5000);
    expect(w.phones.sent, 'NOTIFYs sent').to.deep.equal([]);
    expect(await versions()).to.deep.equal(start);

    // What the phones do get: a new emergency number reaches every phone at the location, a label only its own.
    ok(await api(w.h).patch('/api/v1/locations/1', { emergencyNumbers: ['911', '933'] }));
    ok(await api(w.h).patch(`/api/v1/devices/${MAC.C}`, { label: 'Desk 3 (window)' }));
    const after = await versions();
    for (const m of Object.values(MAC)) expect(after[m], m).to.equal(start[m]! + (m === MAC.C ? 2 : 1));
  });

  it('a guest logging in: the NOTIFY authenticates with the owner line the phone still runs, never the guest\'s', async () => {
    const w = world();
    await office(w);
    ok(await login(w.h, MAC.A, '200', PIN['200']));
    await w.timers.advance(1000);
    expect(w.phones.sent).to.have.length(1);
    const { req } = w.phones.sent[0]!;
    expect(req.user).to.equal('100');
    expect(req.auth).to.deep.equal({ username: '100', password: SIP_PASSWORD('100') });
    // Once the phone fetched the guest's config, the next NOTIFY authenticates as the guest line.
    await yealinkConfig(w.h, MAC.A);
    w.h.ctx.recorder.flush();
    ok(await api(w.h).post(`/api/v1/devices/${MAC.A}/resync`), 202);
    await w.timers.advance(1000);
    expect(w.phones.sent[1]?.req.auth).to.deep.equal({ username: '200', password: SIP_PASSWORD('200') });
    expect(JSON.stringify(w.h.logs)).not.to.contain(SIP_PASSWORD('100')).and.not.to.contain(SIP_PASSWORD('200'));
    const detail = await api(w.h).get(`/api/v1/devices/${MAC.A}`);
    expect(JSON.stringify(detail.body)).not.to.contain(SIP_PASSWORD('100'));
  });

  it('408 is retried with backoff (30 s, then 1 m) until 200; the device shows pending meanwhile', async () => {
    const w = world();
    await office(w);
    w.phones.answer = (_req, n) => (n <= 2 ? { status: 408, reason: 'Request Timeout', transmissions: 11 } : {});
    ok(await api(w.h).post(`/api/v1/devices/${MAC.A}/resync`), 202);
    await w.timers.advance(1000);
    expect(w.phones.sent).to.have.length(1);
    expect(await syncOf(w.h, MAC.A)).to.include({ pending: true });
    await w.timers.advance(28_000);
    expect(w.phones.sent, 'not before 30 s').to.have.length(1);
    await w.timers.advance(3000);
    expect(w.phones.sent).to.have.length(2);
    await w.timers.advance(55_000); // 87 s: 57 s after the second try
    expect(w.phones.sent, 'then 1 m').to.have.length(2);
    await w.timers.advance(5000);
    expect(w.phones.sent).to.have.length(3);
    const t = w.phones.sent.map((s) => s.at - w.phones.sent[0]!.at);
    expect(t[1]).to.be.within(30_000, 31_000);
    expect(t[2]! - t[1]!).to.be.within(60_000, 61_000);
    expect(notifyLog(w.h, MAC.A).map((r) => r.outcome)).to.deep.equal(['retry', 'retry', 'ok']);
    expect(await syncOf(w.h, MAC.A)).to.include({ pending: false });
  });

  it('gives up after sip.maxAttempts; a phone that answers 403 or 404 is not hammered', async () => {
    const w = world({ maxAttempts: 3 });
    await office(w);
    w.phones.answer = () => ({ status: 503, reason: 'connection failed: ECONNREFUSED', transmissions: 0 });
    ok(await api(w.h).post(`/api/v1/devices/${MAC.A}/resync`), 202);
    await w.timers.advance(10 * MINUTE);
    expect(w.phones.sent).to.have.length(3);
    const log = notifyLog(w.h, MAC.A);
    expect(log.map((r) => r.outcome)).to.deep.equal(['retry', 'retry', 'gave-up']);
    expect(log[2]!.reason).to.contain('gave up after 3 attempts');
    expect(outboxMacs(w.h)).to.deep.equal([]);

    w.phones.answer = () => ({ status: 403, reason: 'Forbidden', transmissions: 2 });
    ok(await api(w.h).post(`/api/v1/devices/${MAC.A}/resync`), 202);
    await w.timers.advance(30 * MINUTE);
    expect(w.phones.sent).to.have.length(4);
    expect(notifyLog(w.h, MAC.A).at(-1)).to.include({ status: 403, outcome: 'answered' });
    expect((await syncOf(w.h, MAC.A)).lastNotify).to.include({ status: 403, reason: 'Forbidden' });
  });

  it('throttle: 100 phones at 20/s go out over ~5 s of fake time, never more than 21 in any 1 s window', async () => {
    const w = world();
    const now = w.h.clock.now();
    w.h.ctx.stores.tx(() => {
      for (let i = 0; i < 100; i++) {
        const mac = `001565${i.toString(16).padStart(6, '0')}`;
        w.h.ctx.stores.devices.insert({
          mac: mac as never, vendor: 'yealink', model: 'T46U', label: null, ownerExtension: null, hotdeskEnabled: false,
          locationId: null, sipContact: `sip:10.1.${i >> 8}.${i & 255}:5060`, sessionTimeout: null,
        }, now);
      }
    });
    w.dispatcher.start();
    const r = await api(w.h).post('/api/v1/resync', { vendor: 'yealink' });
    expect(r.status).to.equal(202);
    expect(r.body).to.deep.equal({ queued: 100 });
    await w.timers.advance(8000);
    const at = w.phones.sent.map((s) => s.at);
    expect(at).to.have.length(100);
    expect(new Set(w.phones.sent.map((s) => s.req.target.host)).size).to.equal(100);
    const span = at.at(-1)! - at[0]!;
    expect(span).to.be.within(4750, 5250);
    let worst = 0;
    for (let i = 0; i < at.length; i++) {
      let j = i;
      while (j < at.length && at[j]! < at[i]! + 1000) j++;
      worst = Math.max(worst, j - i);
    }
    expect(worst).to.be.at.most(21);
    expect(w.h.ctx.stores.outbox.depth()).to.equal(0);
  });

  it('stale: answered 2xx but no fetch within sip.staleAfter; a fetch after the NOTIFY clears it', async () => {
    const w = world();
    await office(w);
    ok(await api(w.h).patch(`/api/v1/devices/${MAC.A}`, { label: 'moved' }));
    await w.timers.advance(1000);
    let sync = await syncOf(w.h, MAC.A);
    expect(sync).to.include({ stale: false, fetchedAfterNotify: false });
    expect(sync.configVersion).to.be.greaterThan(sync.fetchedVersion ?? 0);
    await w.timers.advance(5 * MINUTE);
    sync = await syncOf(w.h, MAC.A);
    expect(sync).to.include({ stale: true, fetchedAfterNotify: false });
    await yealinkConfig(w.h, MAC.A);
    sync = await syncOf(w.h, MAC.A);
    expect(sync).to.include({ stale: false, fetchedAfterNotify: true });
    expect(sync.fetchedVersion).to.equal(sync.configVersion);
    const detail = await api(w.h).get(`/api/v1/devices/${MAC.A}`);
    expect((detail.body as { notifications: unknown[] }).notifications).to.have.length(1);
  });

  it('bulk resync by vendor reaches only that vendor; bad filters and unknown devices change nothing', async () => {
    const w = world();
    await office(w);
    ok(await api(w.h).patch(`/api/v1/devices/${MAC.P}`, { sipContact: 'sip:10.9.9.9' }));
    for (const mac of [MAC.B, MAC.C, MAC.D]) ok(await api(w.h).patch(`/api/v1/devices/${mac}`, { sipContact: 'sip:10.8.8.8' }));
    await w.timers.advance(1000);
    const before = w.phones.sent.length;
    const r = await api(w.h).post('/api/v1/resync', { vendor: 'polycom' });
    expect(r.status).to.equal(202);
    expect(r.body).to.deep.equal({ queued: 1 });
    await w.timers.advance(1000);
    expect(w.phones.sent.slice(before).map((s) => [s.req.target.host, s.req.event])).to.deep.equal([['10.9.9.9', 'check-sync']]);

    expect((await api(w.h).post('/api/v1/resync', {})).status).to.equal(400);
    expect((await api(w.h).post('/api/v1/resync', { vendor: 'yealink', bogus: 1 })).status).to.equal(400);
    expect((await api(w.h).post('/api/v1/resync', { macs: [MAC.A, '001565ffffff'] })).status).to.equal(404);
    expect((await api(w.h).post('/api/v1/devices/001565ffffff/resync')).status).to.equal(404);
    expect((await api(w.h).post('/api/v1/devices/not-a-mac/resync')).status).to.equal(400);
    expect(outboxMacs(w.h)).to.deep.equal([]);
  });

  it('a PBX token may resync one device but not in bulk; readonly may do neither', async () => {
    const w = world();
    await office(w);
    const tokens: Record<string, string> = {};
    for (const role of ['pbx', 'readonly']) {
      const r = await api(w.h).post('/api/v1/tokens', { name: `t-${role}`, role });
      ok(r, 201);
      tokens[role] = `Bearer ${(r.body as { token: string }).token}`;
    }
    const as = (role: string, path: string, body: object = {}) => w.h.http.post(path).set('Authorization', tokens[role]!).send(body);
    expect((await as('pbx', `/api/v1/devices/${MAC.A}/resync`)).status).to.equal(202);
    expect((await as('pbx', '/api/v1/resync', { all: true })).status).to.equal(403);
    expect((await as('readonly', `/api/v1/devices/${MAC.A}/resync`)).status).to.equal(403);
  });

  it('a phone that never fetched and has no sipContact: nothing sent, logged as no-target, not kept queued', async () => {
    const w = world();
    await office(w);
    ok(await api(w.h).post(`/api/v1/devices/${MAC.B}/resync`), 202);
    await w.timers.advance(1000);
    expect(w.phones.sent).to.have.length(0);
    expect(notifyLog(w.h, MAC.B)).to.deep.equal([{ status: 0, outcome: 'no-target', reason: 'no target: no sipContact and the phone never fetched its config', event: 'check-sync;reboot=true', target: '' }]);
    expect(outboxMacs(w.h)).to.deep.equal([]);
  });

  it('queued rows survive a stop and are sent by the next dispatcher; /status shows the queue', async () => {
    const w = world({ maxNotifiesPerSecond: 1 });
    await office(w);
    for (const mac of [MAC.B, MAC.C, MAC.D, MAC.P]) {
      ok(await api(w.h).patch(`/api/v1/devices/${mac}`, { sipContact: 'sip:10.7.7.7' }));
      ok(await api(w.h).post(`/api/v1/devices/${mac}/resync`), 202);
    }
    await w.timers.advance(10);
    expect(w.phones.sent).to.have.length(1);
    await w.dispatcher.stop();
    const status = await api(w.h).get('/api/v1/status');
    ok(status);
    expect(status.body).to.deep.include({ outboxDepth: 3, activeSessions: 0, devices: 5 });
    expect(status.body.notifies.lastHour).to.include({ total: 1, ok: 1 });

    const next = createResyncDispatcher(w.h.ctx, w.phones, { timers: w.timers });
    worlds.push({ ...w, dispatcher: next });
    next.start();
    await w.timers.advance(5000);
    expect(w.phones.sent).to.have.length(4);
    expect(w.h.ctx.stores.outbox.depth()).to.equal(0);
  });
});
