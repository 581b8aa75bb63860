/**
 * Hot desking through the admin API (what a PBX feature code or an admin does): log in,
 * refusals, PIN lockout, the multiple-login rules, and the ways a session ends by hand.
 */
import { expect } from 'chai';
import { createHarness, type Harness } from '../helpers/harness.js';
import {
  configVersion, device, login, logout, MAC, MINUTE, ok, outboxMacs, PIN, seedOffice, sessions, SIP_PASSWORD,
  yealinkConfig, yealinkLine,
} from '../helpers/hotdesk.js';

describe('hot desking: log in and out through the API', () => {
  let h: Harness;
  afterEach(() => h.destroy());

  describe('with the default rules', () => {
    beforeEach(async () => {
      h = createHarness();
      await seedOffice(h);
    });

    it('a guest logging in at an owner\'s phone gets their line there, and the owner\'s line is gone', async () => {
      const before = await yealinkConfig(h, MAC.A);
      expect(yealinkLine(before)).to.equal('100');
      const r = await login(h, MAC.A, '200', PIN['200']);
      ok(r);
      expect(r.body).to.include({ mac: MAC.A, state: 'guest', guestExtension: '200', ownerExtension: '100' });
      const endsAt = Date.parse((r.body as { session: { endsAt: string } }).session.endsAt);
      expect(endsAt - h.clock.now()).to.equal(12 * 60 * MINUTE); // hotdesk.sessionTimeout default 12h

      const cfg = await yealinkConfig(h, MAC.A);
      expect(yealinkLine(cfg)).to.equal('200');
      expect(cfg).to.include(SIP_PASSWORD('200'));
      expect(cfg).to.not.include(SIP_PASSWORD('100'));
      expect(outboxMacs(h)).to.deep.equal([MAC.A]);
      const active = await sessions(h, { active: 'true' });
      expect(active).to.have.length(1);
      expect(active[0]).to.include({ mac: MAC.A, extension: '200', active: true, endedAt: null, endReason: null });
      expect(JSON.stringify(r.body)).to.not.include(PIN['200']);
    });

    it('a wrong PIN answers 401 with the attempts left and changes nothing a phone sees', async () => {
      const version = configVersion(h, MAC.B);
      const r = await login(h, MAC.B, '200', '000000');
      expect(r.status).to.equal(401);
      expect(r.body).to.deep.equal({ error: { code: 'login_failed', message: 'login failed: wrong extension or PIN', details: { attemptsLeft: 4 } } });
      expect(outboxMacs(h)).to.deep.equal([]);
      expect(configVersion(h, MAC.B)).to.equal(version);
      expect((await device(h, MAC.B)).state).to.equal('unassigned');
      expect(await sessions(h)).to.deep.equal([]);
    });

    it('an unknown extension reads exactly like a wrong PIN, down to the attempts left', async () => {
      const known = [await login(h, MAC.B, '200', '000000'), await login(h, MAC.B, '200', '000001')];
      const unknown = [await login(h, MAC.B, '999', '000000'), await login(h, MAC.B, '999', '000001')];
      expect(unknown.map((r) => [r.status, r.body])).to.deep.equal(known.map((r) => [r.status, r.body]));
    });

    it('locks after 5 wrong PINs (423 even with the right PIN) and unlocks after hotdesk.pinLockout', async () => {
      for (let i = 1; i <= 4; i++) {
        const r = await login(h, MAC.B, '200', '111111');
        expect(r.status).to.equal(401);
        expect((r.body as { error: { details: { attemptsLeft: number } } }).error.details.attemptsLeft).to.equal(5 - i);
      }
      const fifth = await login(h, MAC.B, '200', '111111');
      expect(fifth.status).to.equal(423);
      expect(fifth.headers['retry-after']).to.equal('900');
      const right = await login(h, MAC.B, '200', PIN['200']);
      expect(right.status).to.equal(423);
      // The owner's "logout with PIN" route is locked too.
      expect((await logout(h, MAC.B, { extension: '200', pin: PIN['200'] })).status).to.equal(423);
      expect((await device(h, MAC.B)).state).to.equal('unassigned');
      expect(outboxMacs(h)).to.deep.equal([]);
      const user = await h.http.get('/api/v1/users/200').set('Authorization', h.auth);
      expect((user.body as { lockedUntil: string }).lockedUntil).to.be.a('string');

      h.clock.advance(14 * MINUTE);
      expect((await login(h, MAC.B, '200', PIN['200'])).status).to.equal(423);
      h.clock.advance(MINUTE);
      ok(await login(h, MAC.B, '200', PIN['200']));
      expect((await device(h, MAC.B)).guestExtension).to.equal('200');
    });

    it('refuses with 403 a device with hot desking off, and a user not allowed to hot desk', async () => {
      const off = await login(h, MAC.C, '200', PIN['200']);
      expect(off.status).to.equal(403);
      expect(off.body).to.have.nested.property('error.details.reason', 'hotdesk-disabled');
      const notAllowed = await login(h, MAC.B, '400', PIN['400']);
      expect(notAllowed.status).to.equal(403);
      expect(notAllowed.body).to.have.nested.property('error.details.reason', 'user-not-allowed');
      expect(outboxMacs(h)).to.deep.equal([]);
      expect(await sessions(h)).to.deep.equal([]);
    });

    it('400 for bad input, 404 for an unknown device, 401 without a token', async () => {
      expect((await login(h, MAC.B, '200', 1234 as unknown as string)).status).to.equal(400);
      expect((await h.http.post(`/api/v1/devices/${MAC.B}/login`).set('Authorization', h.auth).send({ extension: '200' })).status).to.equal(400);
      expect((await login(h, 'not-a-mac', '200', PIN['200'])).status).to.equal(400);
      expect((await login(h, '001565ffffff', '200', PIN['200'])).status).to.equal(404);
      expect((await h.http.post(`/api/v1/devices/${MAC.B}/login`).send({ extension: '200', pin: PIN['200'] })).status).to.equal(401);
      expect(await sessions(h)).to.deep.equal([]);
    });

    it('logout-previous: logging in elsewhere ends the first session as displaced and reverts that phone', async () => {
      ok(await login(h, MAC.B, '200', PIN['200']));
      h.db.prepare('DELETE FROM outbox').run();
      h.clock.advance(MINUTE);
      ok(await login(h, MAC.A, '200', PIN['200']));
      expect((await device(h, MAC.B)).state).to.equal('unassigned');
      expect(yealinkLine(await yealinkConfig(h, MAC.B))).to.equal(null);
      expect(yealinkLine(await yealinkConfig(h, MAC.A))).to.equal('200');
      expect(outboxMacs(h)).to.deep.equal([MAC.A, MAC.B]);
      const all = await sessions(h, { extension: '200' });
      expect(all.map((s) => [s.mac, s.endReason])).to.deep.equal([[MAC.A, null], [MAC.B, 'displaced']]);
    });

    it('a second guest on an occupied phone replaces the first (displaced); the owner reclaims it with their PIN', async () => {
      ok(await login(h, MAC.A, '200', PIN['200']));
      ok(await login(h, MAC.A, '300', PIN['300']));
      expect((await device(h, MAC.A)).guestExtension).to.equal('300');
      const r = await login(h, MAC.A, '100', PIN['100']);
      ok(r);
      expect(r.body).to.include({ state: 'owner', guestExtension: null });
      expect(yealinkLine(await yealinkConfig(h, MAC.A))).to.equal('100');
      const all = await sessions(h, { mac: MAC.A });
      expect(all.map((s) => [s.extension, s.endReason])).to.deep.equal([['300', 'owner'], ['200', 'displaced']]);
    });

    it('logging in again where you already sit changes nothing', async () => {
      ok(await login(h, MAC.B, '200', PIN['200']));
      const version = configVersion(h, MAC.B);
      h.db.prepare('DELETE FROM outbox').run();
      ok(await login(h, MAC.B, '200', PIN['200']));
      expect(configVersion(h, MAC.B)).to.equal(version);
      expect(outboxMacs(h)).to.deep.equal([]);
      expect(await sessions(h)).to.have.length(1);
    });

    it('an admin logout restores the owner\'s line and ends the session as admin', async () => {
      ok(await login(h, MAC.A, '200', PIN['200']));
      h.db.prepare('DELETE FROM outbox').run();
      const r = await logout(h, MAC.A);
      ok(r);
      expect(r.body).to.include({ state: 'owner', ownerExtension: '100', guestExtension: null });
      const cfg = await yealinkConfig(h, MAC.A);
      expect(yealinkLine(cfg)).to.equal('100');
      expect(cfg).to.not.include(SIP_PASSWORD('200'));
      expect(outboxMacs(h)).to.deep.equal([MAC.A]);
      expect((await sessions(h, { mac: MAC.A }))[0]).to.include({ active: false, endReason: 'admin' });
      // Logging out a free phone again is harmless.
      ok(await logout(h, MAC.A));
    });

    it('the owner ends a guest session on their own phone with their PIN (owner); the guest with theirs (logout)', async () => {
      ok(await login(h, MAC.A, '200', PIN['200']));
      expect((await logout(h, MAC.A, { extension: '300', pin: PIN['300'] })).status).to.equal(403);
      expect((await logout(h, MAC.A, { extension: '100', pin: '000000' })).status).to.equal(401);
      ok(await logout(h, MAC.A, { extension: '100', pin: PIN['100'] }));
      ok(await login(h, MAC.A, '200', PIN['200']));
      ok(await logout(h, MAC.A, { extension: '200', pin: PIN['200'] }));
      const all = await sessions(h, { mac: MAC.A });
      expect(all.map((s) => s.endReason)).to.deep.equal(['logout', 'owner']);
      expect((await device(h, MAC.A)).state).to.equal('owner');
      expect((await logout(h, MAC.A, { extension: '100' })).status).to.equal(400);
    });

    it('a pbx token may log in and out (a feature code), and nothing more', async () => {
      const created = await h.http.post('/api/v1/tokens').set('Authorization', h.auth).send({ name: 'asterisk', role: 'pbx' });
      ok(created, 201);
      const pbx = `Bearer ${(created.body as { token: string }).token}`;
      ok(await h.http.post(`/api/v1/devices/${MAC.A}/login`).set('Authorization', pbx).send({ extension: '200', pin: PIN['200'] }));
      ok(await h.http.post(`/api/v1/devices/${MAC.A}/logout`).set('Authorization', pbx));
      expect((await sessions(h))[0]).to.include({ endReason: 'logout' });
      expect((await h.http.post('/api/v1/hotdesk/sweep').set('Authorization', pbx)).status).to.equal(403);
      expect((await h.http.delete('/api/v1/users/200').set('Authorization', pbx)).status).to.equal(403);
      expect((await h.http.patch(`/api/v1/devices/${MAC.A}`).set('Authorization', pbx).send({ hotdeskEnabled: false })).status).to.equal(403);
    });

    it('records logins and logouts in the audit log, without the PIN', async () => {
      ok(await login(h, MAC.A, '200', PIN['200']));
      ok(await logout(h, MAC.A));
      const r = await h.http.get('/api/v1/audit').query({ target: `device:${MAC.A}` }).set('Authorization', h.auth);
      ok(r);
      const actions = (r.body as { entries: Array<{ action: string }> }).entries.map((e) => e.action);
      expect(actions).to.include.members(['hotdesk.login', 'hotdesk.logout']);
      expect(JSON.stringify(r.body)).to.not.include(PIN['200']);
    });

    it('never writes a PIN to the logs', async () => {
      await login(h, MAC.B, '200', '000000');
      ok(await login(h, MAC.B, '200', PIN['200']));
      const text = JSON.stringify(h.logs);
      for (const pin of Object.values(PIN)) expect(text).to.not.include(pin);
    });
  });

  describe('multipleLogin: "deny"', () => {
    beforeEach(async () => {
      h = createHarness({ config: { hotdesk: { multipleLogin: 'deny' } } });
      await seedOffice(h);
    });

    it('refuses a second device with 409 and leaves the first session alone', async () => {
      ok(await login(h, MAC.B, '200', PIN['200']));
      h.db.prepare('DELETE FROM outbox').run();
      const r = await login(h, MAC.A, '200', PIN['200']);
      expect(r.status).to.equal(409);
      expect(r.body).to.have.nested.property('error.details.reason', 'already-logged-in');
      expect((await device(h, MAC.A)).state).to.equal('owner');
      expect((await device(h, MAC.B)).guestExtension).to.equal('200');
      expect(outboxMacs(h)).to.deep.equal([]);
    });
  });

  describe('multipleLogin: "allow" with maxDevicesPerUser 2', () => {
    beforeEach(async () => {
      h = createHarness({ config: { hotdesk: { multipleLogin: 'allow', maxDevicesPerUser: 2 } } });
      await seedOffice(h);
    });

    it('lets a user sit at two phones and refuses the third with 409', async () => {
      ok(await login(h, MAC.A, '200', PIN['200']));
      ok(await login(h, MAC.B, '200', PIN['200']));
      const third = await login(h, MAC.D, '200', PIN['200']);
      expect(third.status).to.equal(409);
      expect(third.body).to.have.nested.property('error.details.reason', 'device-limit');
      expect((await sessions(h, { active: 'true', extension: '200' })).map((s) => s.mac).sort()).to.deep.equal([MAC.A, MAC.B]);
      expect((await device(h, MAC.D)).state).to.equal('unassigned');
    });
  });
});
