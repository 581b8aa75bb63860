/**
 * The sweep at scale: it ends sessions in bounded batches (one transaction each, the event loop
 * free in between), reports them, and leaves alone what someone else ended meanwhile.
 */
import { expect } from 'chai';
import { createHarness, type Harness } from '../helpers/harness.js';
import { HOUR, MAC, PIN, device, login, ok, outboxMacs, seedOffice, yealinkConfig } from '../helpers/hotdesk.js';
import { SWEEP_BATCH } from '../../server/services/hotdesk.js';

const macOf = (i: number) => (0x805ec0000000 + i).toString(16);

/** `n` hot-desk devices (every third owned by 100), each with a guest session that ends an hour from now. */
function seedExpiring(h: Harness, n: number, opts: { withDevice?: (i: number) => boolean } = {}): void {
  const t0 = h.clock.now();
  h.db.transaction(() => {
    h.db.prepare(`INSERT OR IGNORE INTO users (extension, display_name, sip_username, sip_password, created_at, updated_at)
      VALUES ('100', 'Olivia Owner', '100', 'secret', ?, ?)`).run(t0, t0);
    const dev = h.db.prepare(`INSERT INTO devices (mac, vendor, owner_extension, hotdesk_enabled, created_at, updated_at)
      VALUES (?, 'yealink', ?, 1, ?, ?)`);
    const ses = h.db.prepare('INSERT INTO sessions (mac, extension, started_at, ends_at) VALUES (?, ?, ?, ?)');
    for (let i = 0; i < n; i++) {
      if (opts.withDevice?.(i) ?? true) dev.run(macOf(i), i % 3 === 0 ? '100' : null, t0, t0);
      ses.run(macOf(i), String(2000 + i), t0, t0 + HOUR);
    }
  })();
}

describe('hot desking: the sweep at scale', () => {
  let h: Harness;
  beforeEach(() => {
    h = createHarness();
  });
  afterEach(() => h.destroy());

  it(`ends 2,500 sessions in transactions of at most ${SWEEP_BATCH}, letting other work run between them`, async () => {
    seedExpiring(h, 2500);
    h.clock.advance(HOUR);
    const sizes: number[] = [];
    const finishMany = h.ctx.stores.sessions.finishMany.bind(h.ctx.stores.sessions);
    h.ctx.stores.sessions.finishMany = (ids, at, reason) => {
      sizes.push(ids.length);
      return finishMany(ids, at, reason);
    };
    let ticks = 0;
    let ticking = true;
    const tick = () => {
      ticks++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);

    const report = await h.ctx.hotdesk.sweepReport();
    ticking = false;

    expect(report.ended).to.equal(2500);
    expect(sizes).to.deep.equal([1000, 1000, 500]);
    expect(report.batches).to.equal(3);
    expect(ticks, 'the event loop ran between batches').to.be.at.least(2);
    expect(report.longestBatchMs).to.be.greaterThan(0).and.lessThan(Number.POSITIVE_INFINITY);
    expect(outboxMacs(h)).to.have.length(2500);
    expect(h.ctx.stores.sessions.countActive()).to.equal(0);
    expect(await h.ctx.hotdesk.sweepReport()).to.deep.include({ ended: 0 });
  });

  it('a session whose device is gone ends without a resync; the others are resynced', async () => {
    seedExpiring(h, 4, { withDevice: (i) => i !== 2 });
    h.clock.advance(HOUR);
    expect(await h.ctx.hotdesk.sweep()).to.equal(4);
    expect(outboxMacs(h)).to.deep.equal([macOf(0), macOf(1), macOf(3)]);
    const reasons = h.db.prepare('SELECT DISTINCT end_reason AS r FROM sessions').pluck().all();
    expect(reasons).to.deep.equal(['timeout']);
  });

  it('a session ended by someone else while its batch runs is neither counted nor resynced by the sweep', async () => {
    seedExpiring(h, 5);
    h.clock.advance(HOUR);
    const { sessions } = h.ctx.stores;
    const finishMany = sessions.finishMany.bind(sessions);
    let raced = false;
    sessions.finishMany = (ids, at, reason) => {
      if (!raced && ids.length > 0) {
        raced = true;
        sessions.finish(ids[1]!, at, 'logout'); // another writer gets to the second session first
      }
      return finishMany(ids, at, reason);
    };
    expect(await h.ctx.hotdesk.sweep()).to.equal(4);
    expect(outboxMacs(h)).to.deep.equal([macOf(0), macOf(2), macOf(3), macOf(4)]);
    const rows = h.db.prepare('SELECT mac, end_reason AS r FROM sessions ORDER BY id').all();
    expect(rows).to.deep.equal([
      { mac: macOf(0), r: 'timeout' },
      { mac: macOf(1), r: 'logout' },
      { mac: macOf(2), r: 'timeout' },
      { mac: macOf(3), r: 'timeout' },
      { mac: macOf(4), r: 'timeout' },
    ]);
  });

  describe('daily logout at 18:00 (Europe/Paris)', () => {
    const CUT = Date.UTC(2026, 0, 15, 17, 0); // 18:00 in Paris
    beforeEach(() => {
      h.destroy();
      h = createHarness({
        config: { hotdesk: { dailyLogoutAt: '18:00' }, provisioning: { baseUrl: 'http://prov.test:8080/', timeZone: 'Europe/Paris' } },
      });
    });

    it('ends, in batches, the sessions started before it and still running then; not later ones, not the timed-out', async () => {
      const insert = h.db.prepare('INSERT INTO sessions (mac, extension, started_at, ends_at, ended_at, end_reason) VALUES (?, ?, ?, ?, ?, ?)');
      h.db.transaction(() => {
        const dev = h.db.prepare(`INSERT INTO devices (mac, vendor, hotdesk_enabled, created_at, updated_at) VALUES (?, 'yealink', 1, 0, 0)`);
        for (let i = 0; i < 2510; i++) dev.run(macOf(i));
        // History: ended sessions, some of them from before the cut.
        for (let i = 0; i < 3000; i++) insert.run(macOf(i % 2500), `h${i}`, CUT - 30 * 86_400_000 + i, CUT - 29 * 86_400_000, CUT - 29 * 86_400_000, 'logout');
        // 2,500 sitting through 18:00: half never time out, half time out at 20:00.
        for (let i = 0; i < 2500; i++) insert.run(macOf(i), String(3000 + i), CUT - 8 * HOUR, i % 2 ? null : CUT + 2 * HOUR, null, null);
      })();
      insert.run(macOf(2500), 'timed-out', CUT - 8 * HOUR, CUT - HOUR, null, null); // timed out before 18:00
      insert.run(macOf(2501), 'evening', CUT + HOUR / 2, null, null, null); // started after 18:00
      insert.run(macOf(2502), 'evening2', CUT + HOUR / 2, CUT + 5 * HOUR, null, null);
      h.clock.set(CUT + HOUR);

      const report = await h.ctx.hotdesk.sweepReport();
      expect(report.ended).to.equal(2501);
      const byReason = h.db.prepare(`SELECT coalesce(end_reason, 'active') AS r, count(*) AS n FROM sessions
        WHERE extension NOT LIKE 'h%' GROUP BY 1 ORDER BY 1`).all();
      expect(byReason).to.deep.equal([{ r: 'active', n: 2 }, { r: 'daily', n: 2500 }, { r: 'timeout', n: 1 }]);
      const active = h.db.prepare('SELECT extension FROM sessions WHERE ended_at IS NULL ORDER BY extension').pluck().all();
      expect(active).to.deep.equal(['evening', 'evening2']);
      expect(h.db.prepare(`SELECT count(*) FROM sessions WHERE extension LIKE 'h%' AND end_reason = 'logout'`).pluck().get()).to.equal(3000);
      expect(report.batches).to.equal(3 + 1); // daily: 1000, 1000, 500; then the one timed-out session
      expect(outboxMacs(h)).to.have.length(2501);
    });

    it('a session shows the daily logout as its end when that comes before its timeout: API, device and the phone\'s config', async () => {
      await seedOffice(h);
      h.clock.set(CUT - 2 * HOUR); // 16:00 in Paris; sessions time out after 12 h by default
      ok(await login(h, MAC.B, '200', PIN['200']));
      const sessions = await h.http.get('/api/v1/sessions?active=true').set('Authorization', h.auth);
      expect(sessions.body.sessions.map((s: { endsAt: string }) => s.endsAt)).to.deep.equal([new Date(CUT).toISOString()]);
      expect((await device(h, MAC.B)).session).to.include({ endsAt: new Date(CUT).toISOString() });
      expect(await yealinkConfig(h, MAC.B)).to.contain(`## guest session ends ${new Date(CUT).toISOString()}`);
      // ... and the sweep does end it then.
      h.clock.set(CUT);
      await h.ctx.hotdesk.sweepReport();
      expect((await h.http.get('/api/v1/sessions').set('Authorization', h.auth)).body.sessions[0]).to.include({ endReason: 'daily', endedAt: new Date(CUT).toISOString() });
    });

    it('reads the sessions to log out without walking the history of ended sessions', () => {
      // sessions_history holds every session ever started: a batch read through it grew with the history.
      const plan = h.db.prepare(`EXPLAIN QUERY PLAN ${h.ctx.stores.sessions['startedBefore'].source}`).all({ cut: CUT, limit: 1000 }) as { detail: string }[];
      const scans = plan.map((r) => r.detail).filter((d) => /\bsessions\b/.test(d));
      expect(scans).to.have.length.greaterThan(0);
      for (const d of scans) expect(d).to.match(/USING INDEX sessions_active_by_end/);
    });
  });
});
