/**
 * How hot-desk sessions end on their own or because something else changed: timeout sweep,
 * daily logout, catch-up after downtime, restarts, deleted users and devices, device edits;
 * and the session history the API shows.
 */
import { expect } from 'chai';
import { createHarness, type Harness } from '../helpers/harness.js';
import {
  configVersion, device, HOUR, login, MAC, MINUTE, ok, outboxMacs, PIN, seedOffice, sessions, yealinkConfig, yealinkLine,
} from '../helpers/hotdesk.js';
import { startJobs } from '../../server/jobs/sweep.js';
import { ManualClock } from '../../server/services/clock.js';

const sweep = async (h: Harness) => {
  const r = await h.http.post('/api/v1/hotdesk/sweep').set('Authorization', h.auth);
  ok(r);
  return (r.body as { ended: number }).ended;
};

describe('hot desking: how sessions end', () => {
  let h: Harness;
  afterEach(() => h.destroy());

  describe('timeouts', () => {
    beforeEach(async () => {
      h = createHarness();
      await seedOffice(h);
    });

    it('the sweep ends a session once its timeout has passed, and the phone goes back to its owner', async () => {
      ok(await login(h, MAC.A, '200', PIN['200']));
      h.db.prepare('DELETE FROM outbox').run();
      h.clock.advance(12 * HOUR - 1);
      expect(await sweep(h)).to.equal(0);
      expect((await device(h, MAC.A)).state).to.equal('guest');
      h.clock.advance(1);
      expect(await sweep(h)).to.equal(1);
      expect(await sweep(h)).to.equal(0); // idempotent
      expect((await device(h, MAC.A)).state).to.equal('owner');
      expect(yealinkLine(await yealinkConfig(h, MAC.A))).to.equal('100');
      expect(outboxMacs(h)).to.deep.equal([MAC.A]);
      const [s] = await sessions(h, { mac: MAC.A });
      expect(s).to.include({ endReason: 'timeout', endedAt: new Date(h.clock.now()).toISOString() });
      const audit = await h.http.get('/api/v1/audit').query({ action: 'hotdesk.sweep.timeout' }).set('Authorization', h.auth);
      expect((audit.body as { entries: Array<{ actor: string; after: unknown }> }).entries.map((e) => [e.actor, e.after]))
        .to.deep.equal([['system', { ended: 1, reason: 'timeout' }]]);
    });

    it('a device\'s own session timeout wins over hotdesk.sessionTimeout', async () => {
      ok(await h.http.patch(`/api/v1/devices/${MAC.B}`).set('Authorization', h.auth).send({ sessionTimeout: '1h' }));
      const r = await login(h, MAC.B, '200', PIN['200']);
      expect(Date.parse((r.body as { session: { endsAt: string } }).session.endsAt)).to.equal(h.clock.now() + HOUR);
      h.clock.advance(HOUR);
      expect(await sweep(h)).to.equal(1);
      expect((await device(h, MAC.B)).state).to.equal('unassigned');
    });

    it('refuses a device session timeout too long to end (400 naming the field); the longest one accepted works', async () => {
      for (const sessionTimeout of ['99999999d', '999999999d', '999999999h']) {
        const r = await h.http.patch(`/api/v1/devices/${MAC.B}`).set('Authorization', h.auth).send({ sessionTimeout });
        expect(r.status, sessionTimeout).to.equal(400);
        expect(JSON.stringify(r.body)).to.include('sessionTimeout');
      }
      expect((await device(h, MAC.B) as { sessionTimeout?: string | null }).sessionTimeout).to.equal(null);
      ok(await h.http.patch(`/api/v1/devices/${MAC.B}`).set('Authorization', h.auth).send({ sessionTimeout: '36500d' }));
      const r = await login(h, MAC.B, '200', PIN['200']);
      ok(r);
      expect(Date.parse((r.body as { session: { endsAt: string } }).session.endsAt)).to.equal(h.clock.now() + 36_500 * 24 * HOUR);
    });

    it('two overlapping sweeps end each of 2,500 expired sessions exactly once, in batches', async () => {
      const N = 2500;
      const t0 = h.clock.now();
      h.db.transaction(() => {
        const dev = h.db.prepare(`INSERT INTO devices (mac, vendor, hotdesk_enabled, created_at, updated_at) VALUES (?, 'yealink', 1, ?, ?)`);
        const ses = h.db.prepare('INSERT INTO sessions (mac, extension, started_at, ends_at) VALUES (?, ?, ?, ?)');
        for (let i = 0; i < N; i++) {
          const mac = (0x805ec0000000 + i).toString(16);
          dev.run(mac, t0, t0);
          ses.run(mac, i % 2 ? '200' : '300', t0, t0 + HOUR);
        }
      })();
      h.clock.advance(HOUR);
      const [a, b] = await Promise.all([h.ctx.hotdesk.sweep(), h.ctx.hotdesk.sweep()]);
      expect(a + b).to.equal(N);
      expect(b, 'the second sweep took part').to.be.greaterThan(0);
      const ended = h.db.prepare(`SELECT end_reason AS r, count(*) AS n FROM sessions GROUP BY end_reason`).all();
      expect(ended).to.deep.equal([{ r: 'timeout', n: N }]);
      expect(outboxMacs(h)).to.have.length(N);
    });
  });

  describe('daily logout at 18:00 (Europe/Paris)', () => {
    beforeEach(async () => {
      // 09:00 UTC = 10:00 in Paris in January; 18:00 Paris = 17:00 UTC.
      h = createHarness({ config: { hotdesk: { dailyLogoutAt: '18:00', sessionTimeout: '0' }, provisioning: { baseUrl: 'http://prov.test:8080/', timeZone: 'Europe/Paris' } } });
      await seedOffice(h);
    });

    it('ends every session started before 18:00 local, and not the ones started after', async () => {
      ok(await login(h, MAC.A, '200', PIN['200']));
      h.clock.set(Date.UTC(2026, 0, 15, 16, 59));
      expect(await sweep(h)).to.equal(0);
      h.clock.set(Date.UTC(2026, 0, 15, 17, 0));
      expect(await sweep(h)).to.equal(1);
      expect((await sessions(h, { mac: MAC.A }))[0]).to.include({ endReason: 'daily' });
      expect((await device(h, MAC.A)).state).to.equal('owner');

      h.clock.set(Date.UTC(2026, 0, 15, 18, 30)); // an evening shift starts after the logout
      ok(await login(h, MAC.B, '300', PIN['300']));
      h.clock.advance(HOUR);
      expect(await sweep(h)).to.equal(0);
      h.clock.set(Date.UTC(2026, 0, 16, 17, 0)); // next day's 18:00 Paris
      expect(await sweep(h)).to.equal(1);
    });
  });

  describe('a login meets a session past its end that the sweep has not reached yet', () => {
    const clear = () => h.db.prepare('DELETE FROM outbox').run();

    it('logging in again where your session just timed out starts a new one (the old ends as timeout)', async () => {
      h = createHarness({ config: { hotdesk: { sessionTimeout: '1h' } } });
      await seedOffice(h);
      ok(await login(h, MAC.B, '200', PIN['200']));
      h.clock.advance(HOUR + MINUTE); // the sweep has not run yet
      clear();
      const r = await login(h, MAC.B, '200', PIN['200']);
      ok(r);
      expect(Date.parse((r.body as { session: { endsAt: string } }).session.endsAt)).to.equal(h.clock.now() + HOUR);
      expect(outboxMacs(h)).to.deep.equal([MAC.B]); // the phone is told its new session end
      expect(await sweep(h)).to.equal(0); // the next sweep does not log the user straight out
      expect(await device(h, MAC.B)).to.include({ state: 'guest', guestExtension: '200' });
      expect((await sessions(h, { mac: MAC.B })).map((s) => [s.active, s.endReason])).to.deep.equal([[true, null], [false, 'timeout']]);
    });

    it('multipleLogin "deny": a timed-out session elsewhere does not refuse the login', async () => {
      h = createHarness({ config: { hotdesk: { multipleLogin: 'deny', sessionTimeout: '1h' } } });
      await seedOffice(h);
      ok(await login(h, MAC.B, '200', PIN['200']));
      h.clock.advance(HOUR);
      clear();
      ok(await login(h, MAC.D, '200', PIN['200']));
      expect((await device(h, MAC.B)).state).to.equal('unassigned');
      expect(outboxMacs(h)).to.deep.equal([MAC.B, MAC.D]);
      expect((await sessions(h, { extension: '200' })).map((s) => [s.mac, s.endReason])).to.deep.equal([[MAC.D, null], [MAC.B, 'timeout']]);
    });

    it('multipleLogin "allow": a session past the daily logout does not count against maxDevicesPerUser', async () => {
      h = createHarness({ config: {
        hotdesk: { multipleLogin: 'allow', maxDevicesPerUser: 1, dailyLogoutAt: '18:00', sessionTimeout: '0' },
        provisioning: { baseUrl: 'http://prov.test:8080/', timeZone: 'Europe/Paris' },
      } });
      await seedOffice(h);
      ok(await login(h, MAC.B, '200', PIN['200']));
      h.clock.set(Date.UTC(2026, 0, 15, 17, 0, 1)); // just past 18:00 Paris, before the sweep
      ok(await login(h, MAC.D, '200', PIN['200']));
      expect((await sessions(h, { extension: '200' })).map((s) => [s.mac, s.endReason])).to.deep.equal([[MAC.D, null], [MAC.B, 'daily']]);
      expect(await sweep(h)).to.equal(0);
    });

    it('a refused login leaves the expired session to the sweep: nothing changes, nothing is queued', async () => {
      h = createHarness({ config: { hotdesk: { sessionTimeout: '1h' } } });
      await seedOffice(h);
      ok(await login(h, MAC.B, '300', PIN['300']));
      h.clock.advance(2 * HOUR);
      clear();
      const version = configVersion(h, MAC.B);
      const r = await login(h, MAC.B, '400', PIN['400']); // 400 may not hot desk
      expect(r.status).to.equal(403);
      expect(outboxMacs(h)).to.deep.equal([]);
      expect(configVersion(h, MAC.B)).to.equal(version);
      expect(await sessions(h, { active: 'true' })).to.have.length(1);
      expect(await sweep(h)).to.equal(1);
    });
  });

  describe('restarts', () => {
    it('start-up catch-up: sessions that expired while deskprov was down end on the jobs\' first sweep', async () => {
      const clock = new ManualClock();
      h = createHarness({ clock });
      await seedOffice(h);
      ok(await login(h, MAC.A, '200', PIN['200']));
      const dir = h.dir;
      h.close();

      clock.advance(13 * HOUR); // down for 13 hours
      h = createHarness({ dir, clock });
      const stop = startJobs(h.ctx, h.ctx.hotdesk);
      try {
        expect(await stop.firstSweep).to.equal(1);
      } finally {
        stop();
      }
      expect((await device(h, MAC.A)).state).to.equal('owner');
      expect((await sessions(h))[0]).to.include({ endReason: 'timeout' });
      expect(outboxMacs(h)).to.deep.equal([MAC.A]);
    });

    it('a session active at shutdown is still active, and still rendered, after a restart', async () => {
      const clock = new ManualClock();
      h = createHarness({ clock });
      await seedOffice(h);
      ok(await login(h, MAC.B, '200', PIN['200']));
      const dir = h.dir;
      h.close();

      clock.advance(HOUR);
      h = createHarness({ dir, clock });
      const stop = startJobs(h.ctx, h.ctx.hotdesk);
      try {
        expect(await stop.firstSweep).to.equal(0);
      } finally {
        stop();
      }
      expect(await device(h, MAC.B)).to.include({ state: 'guest', guestExtension: '200' });
      expect(yealinkLine(await yealinkConfig(h, MAC.B))).to.equal('200');
    });

    it('refuses an invalid hotdesk.sweepCron at start-up, naming the key', () => {
      h = createHarness({ config: { hotdesk: { sweepCron: 'every minute please' } } });
      expect(() => startJobs(h.ctx, h.ctx.hotdesk)).to.throw(/hotdesk\.sweepCron/);
    });
  });

  describe('deletions and edits', () => {
    beforeEach(async () => {
      h = createHarness();
      await seedOffice(h);
    });

    it('deleting a guest ends their session (user-deleted) and re-provisions the phone for its owner', async () => {
      ok(await login(h, MAC.A, '200', PIN['200']));
      h.db.prepare('DELETE FROM outbox').run();
      ok(await h.http.delete('/api/v1/users/200').set('Authorization', h.auth), 204);
      expect(await device(h, MAC.A)).to.include({ state: 'owner', guestExtension: null });
      expect(yealinkLine(await yealinkConfig(h, MAC.A))).to.equal('100');
      expect(outboxMacs(h)).to.deep.equal([MAC.A]);
      expect((await sessions(h))[0]).to.include({ extension: '200', endReason: 'user-deleted' });
    });

    it('deleting an owner unassigns their phone; a guest sitting there keeps it', async () => {
      ok(await login(h, MAC.A, '200', PIN['200']));
      const version = configVersion(h, MAC.A);
      ok(await h.http.delete('/api/v1/users/100').set('Authorization', h.auth), 204);
      expect(await device(h, MAC.A)).to.include({ state: 'guest', ownerExtension: null, guestExtension: '200' });
      expect(configVersion(h, MAC.A)).to.be.at.least(version);
      ok(await h.http.post(`/api/v1/devices/${MAC.A}/logout`).set('Authorization', h.auth));
      expect((await device(h, MAC.A)).state).to.equal('unassigned');
      expect(yealinkLine(await yealinkConfig(h, MAC.A))).to.equal(null);
    });

    it('deleting a device ends its session (device-deleted)', async () => {
      ok(await login(h, MAC.B, '200', PIN['200']));
      ok(await h.http.delete(`/api/v1/devices/${MAC.B}`).set('Authorization', h.auth), 204);
      expect((await sessions(h))[0]).to.include({ mac: MAC.B, active: false, endReason: 'device-deleted' });
      expect(await sessions(h, { active: 'true' })).to.deep.equal([]);
    });

    it('switching hot desking off on a device ends its guest session (admin)', async () => {
      ok(await login(h, MAC.A, '200', PIN['200']));
      const r = await h.http.patch(`/api/v1/devices/${MAC.A}`).set('Authorization', h.auth).send({ hotdeskEnabled: false });
      ok(r);
      expect(r.body).to.include({ state: 'owner', hotdeskEnabled: false });
      expect((await sessions(h))[0]).to.include({ endReason: 'admin' });
      expect(yealinkLine(await yealinkConfig(h, MAC.A))).to.equal('100');
    });

    it('changing the owner under a guest keeps the guest\'s line until they leave', async () => {
      ok(await login(h, MAC.A, '200', PIN['200']));
      ok(await h.http.patch(`/api/v1/devices/${MAC.A}`).set('Authorization', h.auth).send({ ownerExtension: '300' }));
      expect(await device(h, MAC.A)).to.include({ state: 'guest', ownerExtension: '300', guestExtension: '200' });
      ok(await h.http.post(`/api/v1/devices/${MAC.A}/logout`).set('Authorization', h.auth));
      expect(yealinkLine(await yealinkConfig(h, MAC.A))).to.equal('300');
    });

    it('taking hot desking away from a user ends their guest sessions (admin); the phones they own keep their line', async () => {
      ok(await h.http.patch(`/api/v1/devices/${MAC.C}`).set('Authorization', h.auth).send({ hotdeskEnabled: true }));
      ok(await login(h, MAC.A, '300', PIN['300'])); // 300 owns C
      h.db.prepare('DELETE FROM outbox').run();
      const versionC = configVersion(h, MAC.C);
      ok(await h.http.patch('/api/v1/users/300').set('Authorization', h.auth).send({ hotdeskAllowed: false }));
      expect(await device(h, MAC.A)).to.include({ state: 'owner', guestExtension: null });
      expect(yealinkLine(await yealinkConfig(h, MAC.A))).to.equal('100');
      expect(outboxMacs(h)).to.deep.equal([MAC.A]);
      expect(configVersion(h, MAC.C)).to.equal(versionC);
      expect((await sessions(h))[0]).to.include({ extension: '300', endReason: 'admin' });
      const audit = await h.http.get('/api/v1/audit').query({ target: `device:${MAC.A}` }).set('Authorization', h.auth);
      expect((audit.body as { entries: Array<{ actor: string; action: string }> }).entries[0]).to.include({ actor: 'admin', action: 'hotdesk.logout' });
      // Giving it back changes nothing on any phone.
      ok(await h.http.patch('/api/v1/users/300').set('Authorization', h.auth).send({ hotdeskAllowed: true }));
      expect(outboxMacs(h)).to.deep.equal([MAC.A]);
    });

    it('making the guest the phone\'s owner ends their session (admin): the phone is simply theirs now', async () => {
      ok(await login(h, MAC.B, '200', PIN['200']));
      ok(await login(h, MAC.A, '300', PIN['300']));
      h.db.prepare('DELETE FROM outbox').run();
      for (const [mac, owner] of [[MAC.B, '200'], [MAC.A, '300']] as const) { // unowned → assign; owned → reassign
        const r = await h.http.patch(`/api/v1/devices/${mac}`).set('Authorization', h.auth).send({ ownerExtension: owner });
        ok(r);
        expect(r.body).to.include({ state: 'owner', ownerExtension: owner, guestExtension: null });
        expect(yealinkLine(await yealinkConfig(h, mac))).to.equal(owner);
      }
      expect(outboxMacs(h)).to.deep.equal([MAC.A, MAC.B]);
      expect((await sessions(h)).map((s) => [s.extension, s.endReason])).to.deep.equal([['300', 'admin'], ['200', 'admin']]);
      h.clock.advance(13 * HOUR);
      expect(await sweep(h)).to.equal(0);
    });

    it('editing a user\'s line resyncs the phones that carry it: where they sit, and their own phones no guest occupies', async () => {
      ok(await h.http.patch(`/api/v1/devices/${MAC.C}`).set('Authorization', h.auth).send({ hotdeskEnabled: true }));
      ok(await login(h, MAC.A, '300', PIN['300'])); // 300 owns C and sits at A, 100's phone
      h.db.prepare('DELETE FROM outbox').run();
      const versionA = configVersion(h, MAC.A);
      ok(await h.http.patch('/api/v1/users/100').set('Authorization', h.auth).send({ sipPassword: 'a-new-secret-100' }));
      expect(outboxMacs(h), 'A carries the guest\'s line, not its owner\'s').to.deep.equal([]);
      expect(configVersion(h, MAC.A)).to.equal(versionA);
      ok(await h.http.patch('/api/v1/users/300').set('Authorization', h.auth).send({ displayName: 'Hana H.' }));
      expect(outboxMacs(h)).to.deep.equal([MAC.A, MAC.C]);
      ok(await h.http.post(`/api/v1/devices/${MAC.A}/logout`).set('Authorization', h.auth));
      expect(await yealinkConfig(h, MAC.A)).to.include('a-new-secret-100'); // the owner's edit is there once the guest leaves
    });

    it('flags a hot-desk device without a location (E911 stays with the desk)', async () => {
      ok(await h.http.post('/api/v1/devices').set('Authorization', h.auth).send({ mac: '001565aabb09', vendor: 'yealink', hotdeskEnabled: true }), 201);
      expect((await h.http.get('/api/v1/devices/001565aabb09').set('Authorization', h.auth)).body)
        .to.have.property('warnings').that.has.length(1);
    });
  });

  describe('GET /sessions', () => {
    beforeEach(async () => {
      h = createHarness();
      await seedOffice(h);
    });

    it('filters by active, mac, extension and start date, with ISO times', async () => {
      ok(await login(h, MAC.A, '200', PIN['200']));
      h.clock.advance(2 * HOUR);
      const secondStart = new Date(h.clock.now()).toISOString();
      ok(await login(h, MAC.B, '300', PIN['300']));
      h.clock.advance(MINUTE);
      ok(await h.http.post(`/api/v1/devices/${MAC.A}/logout`).set('Authorization', h.auth));

      expect((await sessions(h)).map((s) => s.mac)).to.deep.equal([MAC.B, MAC.A]);
      expect((await sessions(h, { active: 'true' })).map((s) => s.extension)).to.deep.equal(['300']);
      expect((await sessions(h, { active: 'false' })).map((s) => s.extension)).to.deep.equal(['200']);
      expect((await sessions(h, { mac: '00:15:65:AA:BB:01' })).map((s) => s.extension)).to.deep.equal(['200']);
      expect((await sessions(h, { extension: '300' })).map((s) => s.mac)).to.deep.equal([MAC.B]);
      expect((await sessions(h, { from: secondStart })).map((s) => s.extension)).to.deep.equal(['300']);
      expect((await sessions(h, { to: secondStart })).map((s) => s.extension)).to.deep.equal(['200']);
      const [b] = await sessions(h, { extension: '300' });
      expect(b).to.deep.equal({
        id: 2, mac: MAC.B, extension: '300', active: true, startedAt: secondStart,
        endsAt: new Date(Date.parse(secondStart) + 12 * HOUR).toISOString(), endedAt: null, endReason: null,
      });
    });

    it('400 on a bad filter', async () => {
      for (const q of [{ active: 'yes' }, { mac: 'zz' }, { from: 'yesterday' }, { limit: '0' }, { colour: 'red' }]) {
        expect((await h.http.get('/api/v1/sessions').query(q).set('Authorization', h.auth)).status, JSON.stringify(q)).to.equal(400);
      }
    });
  });
});
