/**
 * Sessions that expired while deskprov was down: the real process ends them before it answers
 * its first phone. 20,000 guest sessions expired an hour ago; the one that expired last (the
 * sweep's last batch) is at the phone that fetches its config as soon as the server answers.
 * It must get its own unassigned config, not the expired guest's line.
 */
import { expect } from 'chai';
import { openDatabase } from '../../db/index.js';
import { startDeskprovProcess, type DeskprovProcess } from '../helpers/process.js';

const TOKEN = 'startup-sweep-test-admin-token-0123456789';
const SESSIONS = 20_000;
const HOUR = 3_600_000;
const macOf = (i: number) => (0x805ec0000000 + i).toString(16).padStart(12, '0');
const extOf = (i: number) => String(100_000 + i);

describe('start-up sweep (real process)', function () {
  this.timeout(60_000);
  let server: DeskprovProcess | undefined;

  after(() => server?.destroy());

  it('ends sessions that expired while deskprov was down before the first phone is answered', async () => {
    const now = Date.now();
    server = await startDeskprovProcess({
      prefix: 'deskprov-startup-sweep-',
      token: TOKEN,
      prepare: (dbPath) => {
        const db = openDatabase(dbPath);
        db.transaction(() => {
          const user = db.prepare(`INSERT INTO users (extension, display_name, sip_username, sip_password, created_at, updated_at) VALUES (?, ?, ?, 'secret', ?, ?)`);
          const device = db.prepare(`INSERT INTO devices (mac, vendor, model, hotdesk_enabled, created_at, updated_at) VALUES (?, 'yealink', 'T46U', 1, ?, ?)`);
          const session = db.prepare('INSERT INTO sessions (mac, extension, started_at, ends_at) VALUES (?, ?, ?, ?)');
          for (let i = 0; i < SESSIONS; i++) {
            user.run(extOf(i), `User ${extOf(i)}`, extOf(i), now - 3 * HOUR, now - 3 * HOUR);
            device.run(macOf(i), now - 3 * HOUR, now - 3 * HOUR);
            // The last one expired last: the sweep (oldest first) reaches it at the end.
            session.run(macOf(i), extOf(i), now - 2 * HOUR, i === SESSIONS - 1 ? now - 60_000 : now - HOUR);
          }
        })();
        db.close();
      },
    });
    const last = SESSIONS - 1;
    const mac = macOf(last);
    const ua = `Yealink SIP-T46U 108.86.0.90 ${mac.match(/../g)!.join(':')}`;
    const res = await fetch(`http://127.0.0.1:${server.port}/${mac}.cfg`, { headers: { 'User-Agent': ua } });
    const body = await res.text();
    expect(res.status).to.equal(200);
    expect(body, 'the expired guest line').not.to.include(`account.1.user_name = ${extOf(last)}`);
    expect(body).to.include(`(unassigned)`);

    const sessions = await fetch(`http://127.0.0.1:${server.port}/api/v1/sessions?active=true`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(sessions.status).to.equal(200);
    const list = (await sessions.json()) as { sessions?: unknown[]; items?: unknown[] } | unknown[];
    const active = Array.isArray(list) ? list : (list.sessions ?? list.items ?? []);
    expect(active, 'active sessions once the server answers').to.have.length(0);
  });
});
