/**
 * Download authentication, allowlists and mutual TLS, as phones see them. Digest responses are
 * computed here the way a phone computes them (RFC 7616), independently of the server code.
 */
import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../db/index.js';
import { createStores } from '../../db/stores/index.js';
import { phoneLane } from '../../server/http/phone-lane.js';
import { createTlsServer } from '../../server/http/tls.js';
import { databaseBefore } from '../helpers/old-database.js';
import { createHarness, type Harness } from '../helpers/harness.js';

const DEVICES = [
  { vendor: 'yealink', mac: '001565aabbcc', model: 'T46U', file: '001565aabbcc.cfg' },
  { vendor: 'polycom', mac: '0004f2aabbcc', model: 'VVX450', file: '0004f2aabbcc-deskprov.cfg' },
  { vendor: 'sangoma-p', mac: '000fd3aabbcc', model: 'P330', file: '000fd3aabbcc.cfg' },
  { vendor: 'sangoma-s', mac: '000fd3aabbdd', model: 'S505', file: 'cfg000fd3aabbdd.xml' },
] as const;
const HOUR = 3_600_000;

async function seed(h: Harness): Promise<void> {
  const ok = (r: { status: number; body: unknown }) => expect(r.status, JSON.stringify(r.body)).to.equal(201);
  ok(await h.http.post('/api/v1/users').set('Authorization', h.auth).send({ extension: '1001', displayName: 'Alice', sipPassword: 'sip-secret-1001', pin: '2468' }));
  for (const d of DEVICES) {
    ok(await h.http.post('/api/v1/devices').set('Authorization', h.auth).send({ mac: d.mac, vendor: d.vendor, model: d.model, ownerExtension: '1001' }));
  }
  // Phones added long ago: no new-device grace.
  h.clock.advance(2 * HOUR);
}

const setMode = (h: Harness, mac: string, mode: string) =>
  h.http.put(`/api/v1/devices/${mac}/download-auth`).set('Authorization', h.auth).send({ mode });

async function credentials(h: Harness, mac: string): Promise<{ username: string; password: string }> {
  const r = await h.http.get(`/api/v1/devices/${mac}/download-auth/credentials`).set('Authorization', h.auth);
  expect(r.status).to.equal(200);
  return r.body as { username: string; password: string };
}

/** All WWW-Authenticate header lines of a response, as sent. */
function challengesOf(res: { res?: { rawHeaders?: string[] }; headers: Record<string, unknown> }): string[] {
  const raw = res.res?.rawHeaders ?? [];
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'www-authenticate') out.push(raw[i + 1]!);
  return out;
}

function param(challenge: string, name: string): string | undefined {
  const m = new RegExp(`${name}=(?:"([^"]*)"|([^,\\s]+))`).exec(challenge);
  return m ? (m[1] ?? m[2]) : undefined;
}

/** What a phone sends after a Digest challenge. */
function digestHeader(challenge: string, creds: { username: string; password: string }, method: string, uri: string): string {
  const algorithm = param(challenge, 'algorithm') ?? 'MD5';
  const H = (s: string) => createHash(algorithm === 'SHA-256' ? 'sha256' : 'md5').update(s).digest('hex');
  const realm = param(challenge, 'realm')!;
  const nonce = param(challenge, 'nonce')!;
  const cnonce = randomBytes(8).toString('hex');
  const nc = '00000001';
  const ha1 = H(`${creds.username}:${realm}:${creds.password}`);
  const ha2 = H(`${method}:${uri}`);
  const response = H(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${creds.username}", realm="${realm}", nonce="${nonce}", uri="${uri}", algorithm=${algorithm}, qop=auth, nc=${nc}, cnonce="${cnonce}", response="${response}"`;
}

/**
 * A crash within the fetch log's write-behind: the phone got its file, but the record of that
 * fetch never reached the database (its fetched version stays what it was).
 */
async function withFetchRecordLost<T>(h: Harness, mac: string, fetch: () => Promise<T>): Promise<T> {
  h.ctx.recorder.flush();
  const before = h.db.prepare('SELECT fetched_version FROM devices WHERE mac = ?').pluck().get(mac);
  const res = await fetch();
  h.ctx.recorder.flush();
  h.db.prepare('UPDATE devices SET fetched_version = ? WHERE mac = ?').run(before, mac);
  h.ctx.stores.devices.forget(mac);
  return res;
}

/** The rollout for one device: provision, the phone fetches its credentials, then enforce. */
async function enforceOnceProvisioned(h: Harness, d: { mac: string; file: string }): Promise<void> {
  await setMode(h, d.mac, 'provision');
  await h.http.get(`/${d.file}`);
  await setMode(h, d.mac, 'enforce');
}

const basic = (c: { username: string; password: string }) => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;

describe('download auth: per-device credentials, off → provision → enforce', () => {
  let h: Harness;
  beforeEach(async () => {
    h = createHarness();
    await seed(h);
  });
  afterEach(() => h.destroy());

  for (const d of DEVICES) {
    describe(`${d.vendor} (${d.file})`, () => {
      it('off: served without credentials, and the config carries none', async () => {
        const r = await h.http.get(`/${d.file}`);
        expect(r.status).to.equal(200);
        const creds = await credentials(h, d.mac);
        expect(creds.username).to.equal(null);
      });

      it('provision: the config carries the generated credentials; they are not required yet', async () => {
        expect((await setMode(h, d.mac, 'provision')).status).to.equal(200);
        const creds = await credentials(h, d.mac);
        expect(creds.username).to.match(/^[A-Za-z0-9]{8,}$/);
        expect(creds.password).to.match(/^[A-Za-z0-9]{20,}$/);
        const r = await h.http.get(`/${d.file}`);
        expect(r.status).to.equal(200);
        expect(r.text).to.include(creds.username).and.include(creds.password);
        h.ctx.recorder.flush();
        const view = await h.http.get(`/api/v1/devices/${d.mac}/download-auth`).set('Authorization', h.auth);
        expect(view.body).to.include({ mode: 'provision', effectiveMode: 'provision', ready: true, username: creds.username });
        expect(JSON.stringify(view.body)).to.not.include(creds.password);
      });

      it('enforce: 401 with Digest MD5, Digest SHA-256 and Basic challenges; each scheme then gets the file', async () => {
        await setMode(h, d.mac, 'provision');
        await h.http.get(`/${d.file}`);
        const creds = await credentials(h, d.mac);
        const put = await setMode(h, d.mac, 'enforce');
        expect(put.body).to.include({ effectiveMode: 'enforce', ready: true });

        const bare = await h.http.get(`/${d.file}`);
        expect(bare.status).to.equal(401);
        expect(bare.text).to.not.include('sip-secret-1001');
        const ch = challengesOf(bare);
        expect(ch).to.have.length(3);
        expect(ch[0]).to.match(/^Digest /).and.match(/algorithm=MD5/).and.match(/qop="auth"/);
        expect(ch[1]).to.match(/^Digest /).and.match(/algorithm=SHA-256/);
        expect(ch[2]).to.match(/^Basic realm="deskprov"/);

        for (const c of ch.slice(0, 2)) {
          const r = await h.http.get(`/${d.file}`).set('Authorization', digestHeader(c, creds, 'GET', `/${d.file}`));
          expect(r.status, c).to.equal(200);
          expect(r.text).to.include('sip-secret-1001');
        }
        expect((await h.http.get(`/${d.file}`).set('Authorization', basic(creds))).status).to.equal(200);
      });
    });
  }

  it('a wrong password, a wrong user or a response for another file gets 401 and counts as a failure', async () => {
    const d = DEVICES[0];
    await enforceOnceProvisioned(h, d);
    const creds = await credentials(h, d.mac);
    const ch = challengesOf(await h.http.get(`/${d.file}`))[0]!;
    const attempts = [
      digestHeader(ch, { ...creds, password: 'guess' }, 'GET', `/${d.file}`),
      digestHeader(ch, { ...creds, username: 'admin' }, 'GET', `/${d.file}`),
      digestHeader(ch, creds, 'GET', '/0004f2aabbcc-deskprov.cfg'),
      basic({ ...creds, password: 'guess' }),
      'Digest garbage',
    ];
    for (const a of attempts) {
      const r = await h.http.get(`/${d.file}`).set('Authorization', a);
      expect(r.status, a).to.equal(401);
      expect(challengesOf(r)).to.have.length(3);
    }
    const failures = h.logs.filter((l) => l.event === 'security' && l.kind === 'auth');
    expect(failures).to.have.length(attempts.length);
    expect(JSON.stringify(h.logs)).to.not.include(creds.password);
  });

  it('wrong passwords pile up in the enumeration guard until the address is blocked', async () => {
    h.destroy();
    h = createHarness({ config: { security: { enumeration: { maxFailures: 3 } } } });
    await seed(h);
    const d = DEVICES[0];
    await enforceOnceProvisioned(h, d);
    const creds = await credentials(h, d.mac);
    for (let i = 0; i < 3; i++) expect((await h.http.get(`/${d.file}`).set('Authorization', basic({ ...creds, password: `x${i}` }))).status).to.equal(401);
    const blocked = await h.http.get(`/${d.file}`).set('Authorization', basic(creds));
    expect(blocked.status).to.equal(429);
    expect(blocked.headers['retry-after']).to.equal('900');
  });

  it('a missing Authorization (a phone’s first try) is not counted', async () => {
    const d = DEVICES[0];
    await enforceOnceProvisioned(h, d);
    for (let i = 0; i < 60; i++) expect((await h.http.get(`/${d.file}`)).status).to.equal(401);
    expect(h.logs.filter((l) => l.kind === 'auth')).to.have.length(0);
  });

  it('an expired nonce with the right password gets stale=true and is not counted', async () => {
    const d = DEVICES[0];
    await enforceOnceProvisioned(h, d);
    const creds = await credentials(h, d.mac);
    const ch = challengesOf(await h.http.get(`/${d.file}`))[1]!;
    h.clock.advance(6 * 60_000);
    const r = await h.http.get(`/${d.file}`).set('Authorization', digestHeader(ch, creds, 'GET', `/${d.file}`));
    expect(r.status).to.equal(401);
    expect(challengesOf(r).slice(0, 2).every((c) => /stale=true/.test(c))).to.equal(true);
    expect(h.logs.filter((l) => l.kind === 'auth')).to.have.length(0);
    const fresh = challengesOf(r)[1]!;
    expect((await h.http.get(`/${d.file}`).set('Authorization', digestHeader(fresh, creds, 'GET', `/${d.file}`))).status).to.equal(200);
  });

  it('PUT uploads of an enforce device need credentials too (Polycom logs)', async () => {
    const d = DEVICES[1];
    await enforceOnceProvisioned(h, d);
    const creds = await credentials(h, d.mac);
    const bare = await h.http.put(`/${d.mac}-app.log`).set('Content-Type', 'text/plain').send('boot ok');
    expect(bare.status).to.equal(401);
    const ch = challengesOf(bare)[0]!;
    const r = await h.http.put(`/${d.mac}-app.log`).set('Content-Type', 'text/plain').set('Authorization', digestHeader(ch, creds, 'PUT', `/${d.mac}-app.log`)).send('boot ok');
    expect(r.status).to.equal(201);
  });

  it('rotation: the old password works until the phone has fetched the new one', async () => {
    const d = DEVICES[0];
    await enforceOnceProvisioned(h, d);
    const old = await credentials(h, d.mac);
    const rot = await h.http.post(`/api/v1/devices/${d.mac}/download-auth/rotate`).set('Authorization', h.auth);
    expect(rot.status).to.equal(200);
    expect(rot.body).to.include({ ready: false, previousPasswordAccepted: true });
    const fresh = await credentials(h, d.mac);
    expect(fresh.password).to.not.equal(old.password);
    const got = await h.http.get(`/${d.file}`).set('Authorization', basic(old));
    expect(got.status).to.equal(200);
    expect(got.text).to.include(fresh.password);
    h.ctx.recorder.flush();
    expect((await h.http.get(`/${d.file}`).set('Authorization', basic(old))).status).to.equal(401);
    expect((await h.http.get(`/${d.file}`).set('Authorization', basic(fresh))).status).to.equal(200);
  });

  it('rotation: a phone whose fetch of the new password was lost in a crash is not locked out by the next rotation', async () => {
    const d = DEVICES[0];
    await enforceOnceProvisioned(h, d);
    const first = await credentials(h, d.mac);
    expect((await h.http.post(`/api/v1/devices/${d.mac}/download-auth/rotate`).set('Authorization', h.auth)).status).to.equal(200);
    const second = await credentials(h, d.mac);
    const got = await withFetchRecordLost(h, d.mac, () => h.http.get(`/${d.file}`).set('Authorization', basic(first)));
    expect(got.status).to.equal(200);
    expect(got.text, 'the phone now holds the second password').to.include(second.password);
    expect((await h.http.get(`/api/v1/devices/${d.mac}/download-auth`).set('Authorization', h.auth)).body).to.include({ ready: false });

    expect((await h.http.post(`/api/v1/devices/${d.mac}/download-auth/rotate`).set('Authorization', h.auth)).status).to.equal(200);
    const third = await credentials(h, d.mac);
    const again = await h.http.get(`/${d.file}`).set('Authorization', basic(second));
    expect(again.status, 'the password the phone holds').to.equal(200);
    expect(again.text).to.include(third.password);
    h.ctx.recorder.flush();
    // Once that fetch is recorded, only the newest password is accepted.
    expect((await h.http.get(`/${d.file}`).set('Authorization', basic(second))).status).to.equal(401);
    expect((await h.http.get(`/${d.file}`).set('Authorization', basic(first))).status).to.equal(401);
    expect((await h.http.get(`/${d.file}`).set('Authorization', basic(third))).status).to.equal(200);
  });

  it('rotation: at most four earlier passwords stay accepted while the phone has not fetched', async () => {
    const d = DEVICES[0];
    await enforceOnceProvisioned(h, d);
    h.ctx.recorder.flush();
    const held = [await credentials(h, d.mac)];
    for (let i = 0; i < 5; i++) {
      expect((await h.http.post(`/api/v1/devices/${d.mac}/download-auth/rotate`).set('Authorization', h.auth)).status).to.equal(200);
      held.push(await credentials(h, d.mac));
    }
    // Held: the one the phone had, then five rotations. The oldest is beyond the four kept. (No
    // fetch here is recorded, so each answer is the one a phone that has not fetched gets.)
    const status = async (c: { username: string; password: string }) =>
      (await withFetchRecordLost(h, d.mac, () => h.http.get(`/${d.file}`).set('Authorization', basic(c)))).status;
    expect(await status(held[0]!)).to.equal(401);
    for (const c of held.slice(1)) expect(await status(c)).to.equal(200);
  });

  it('a new phone may fetch its first config during the grace; a factory-reset one through an enrolment window', async () => {
    await h.http.post('/api/v1/devices').set('Authorization', h.auth).send({ mac: '001565000077', vendor: 'yealink', model: 'T46U' });
    await setMode(h, '001565000077', 'enforce');
    expect((await h.http.get('/001565000077.cfg')).status).to.equal(200);
    h.ctx.recorder.flush();
    expect((await h.http.get('/001565000077.cfg')).status).to.equal(401);

    const enrol = await h.http.post('/api/v1/devices/001565000077/download-auth/enrol').set('Authorization', h.auth).send({ for: '30m' });
    expect(enrol.status).to.equal(200);
    expect(enrol.body.enrolmentOpenUntil).to.be.a('string');
    expect((await h.http.get('/001565000077.cfg')).status).to.equal(200);
    // Asked again: the same answer, which must not be kept past the window (answer-memo.ts).
    expect((await h.http.get('/001565000077.cfg')).status).to.equal(200);
    h.clock.advance(31 * 60_000);
    expect((await h.http.get('/001565000077.cfg')).status).to.equal(401);
  });

  it('the rollout report lists phones that have not fetched their credentials', async () => {
    await setMode(h, DEVICES[0].mac, 'provision');
    await setMode(h, DEVICES[1].mac, 'provision');
    await h.http.get(`/${DEVICES[0].file}`);
    h.ctx.recorder.flush();
    const r = await h.http.get('/api/v1/security/download-auth').set('Authorization', h.auth);
    expect(r.status).to.equal(200);
    expect(r.body.counts).to.deep.equal({ off: 2, provision: 2, enforce: 0 });
    expect(r.body.notReady).to.deep.equal([DEVICES[1].mac]);
  });

  it('mode changes bump the device, are audited, and bad input is a 400 that changes nothing', async () => {
    const before = (await h.http.get(`/api/v1/devices/${DEVICES[0].mac}`).set('Authorization', h.auth)).body.sync.configVersion as number;
    await setMode(h, DEVICES[0].mac, 'provision');
    const after = (await h.http.get(`/api/v1/devices/${DEVICES[0].mac}`).set('Authorization', h.auth)).body.sync.configVersion as number;
    expect(after).to.be.greaterThan(before);
    const audit = await h.http.get('/api/v1/audit?action=device.download-auth').set('Authorization', h.auth);
    expect(audit.body.entries).to.have.length(1);
    expect((await setMode(h, DEVICES[0].mac, 'always')).status).to.equal(400);
    const bad = await h.http.put(`/api/v1/devices/${DEVICES[0].mac}/download-auth`).set('Authorization', h.auth).send({ allowlist: ['10.0.0.0/33'] });
    expect(bad.status).to.equal(400);
    expect((await h.http.get(`/api/v1/devices/${DEVICES[0].mac}/download-auth`).set('Authorization', h.auth)).body).to.include({ mode: 'provision' });
    expect((await setMode(h, '001565999999', 'enforce')).status).to.equal(404);
  });
});

describe('network allowlists', () => {
  let h: Harness | null = null;
  afterEach(() => h?.destroy());

  it('site allowlist: phones outside get 403 (counted); inside are served', async () => {
    h = createHarness({ config: { security: { allowlist: ['10.0.0.0/8', '2001:db8::/32'] } } });
    await seed(h);
    expect((await h.http.get('/001565aabbcc.cfg')).status).to.equal(403);
    expect((await h.http.get('/y000000000108.cfg')).status).to.equal(403);
    expect(h.logs.filter((l) => l.event === 'security' && l.kind === 'network')).to.have.length(2);
    h.destroy();
    h = createHarness({ config: { security: { allowlist: ['127.0.0.0/8', '::1/128'] } } });
    await seed(h);
    expect((await h.http.get('/001565aabbcc.cfg')).status).to.equal(200);
  });

  it('device allowlist: only that device is restricted', async () => {
    h = createHarness();
    await seed(h);
    const put = await h.http.put('/api/v1/devices/001565aabbcc/download-auth').set('Authorization', h.auth).send({ allowlist: ['192.0.2.0/24'] });
    expect(put.status).to.equal(200);
    expect(put.body.allowlist).to.deep.equal(['192.0.2.0/24']);
    expect((await h.http.get('/001565aabbcc.cfg')).status).to.equal(403);
    expect((await h.http.get('/000fd3aabbcc.cfg')).status).to.equal(200);
    await h.http.put('/api/v1/devices/001565aabbcc/download-auth').set('Authorization', h.auth).send({ allowlist: ['127.0.0.1', '::1'] });
    expect((await h.http.get('/001565aabbcc.cfg')).status).to.equal(200);
  });

  it('refuses an impossible site allowlist at start-up, naming the key', () => {
    expect(() => createHarness({ config: { security: { allowlist: ['10.0.0.0/40'] } } })).to.throw(/security\.allowlist\.0/);
  });
});

for (const lane of [true, false]) describe(`HTTPS with mutual TLS (${lane ? 'phone lane in front of node:https' : 'node:https alone'})`, function () {
  this.timeout(30_000);
  let dir: string;
  let h: Harness;
  let server: Server;
  let port: number;
  const pem: Record<string, string> = {};

  const openssl = (...args: string[]) => execFileSync('/usr/bin/openssl', args, { cwd: dir, stdio: 'pipe' });
  function issue(name: string, cn: string, ca: string, ext: string): void {
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/O=Test/CN=${cn}`);
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
  }
  function ca(name: string): void {
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`,
      '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  }
  const read = (f: string) => execFileSync('cat', [join(dir, f)]).toString();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deskprov-tls-'));
    ca('vendor-ca');
    ca('other-ca');
    issue('server', 'localhost', 'vendor-ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    issue('phone', '001565AABBCC', 'vendor-ca', 'extendedKeyUsage=clientAuth\n');
    issue('phone-san', 'Yealink device', 'vendor-ca', 'subjectAltName=DNS:00-15-65-aa-bb-cc.phones.example\nextendedKeyUsage=clientAuth\n');
    issue('other-phone', '001565000099', 'vendor-ca', 'extendedKeyUsage=clientAuth\n');
    issue('stranger', '001565aabbcc', 'other-ca', 'extendedKeyUsage=clientAuth\n');
    for (const f of ['vendor-ca.crt', 'phone.crt', 'phone.key', 'phone-san.crt', 'phone-san.key', 'other-phone.crt', 'other-phone.key', 'stranger.crt', 'stranger.key']) pem[f] = read(f);
    const tls = { port: 0, cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), clientCa: [join(dir, 'vendor-ca.crt')], requireClientCert: true };
    h = createHarness({ config: { http: { tls } } });
    await seed(h);
    server = createTlsServer(h.config.http.tls!, h.app.listener);
    if (lane) phoneLane(h.app.phone.answer, () => false, h.ctx.log).attach(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    h.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  function get(path: string, client: string | null, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1', port, path, method: 'GET', headers, agent: false,
          ca: pem['vendor-ca.crt'],
          ...(client ? { cert: pem[`${client}.crt`], key: pem[`${client}.key`] } : {}),
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('a phone certificate naming the requested MAC (in the CN or a SAN) is served', async () => {
    const r = await get('/001565aabbcc.cfg', 'phone');
    expect(r.status).to.equal(200);
    expect(r.body).to.include('sip-secret-1001');
    expect((await get('/001565aabbcc.cfg', 'phone-san')).status).to.equal(200);
  });

  it('a certificate naming another MAC gets 403', async () => {
    expect((await get('/001565aabbcc.cfg', 'other-phone')).status).to.equal(403);
  });

  it('no certificate, or one from an unknown CA, gets 403 when client certificates are required', async () => {
    expect((await get('/001565aabbcc.cfg', null)).status).to.equal(403);
    expect((await get('/001565aabbcc.cfg', 'stranger')).status).to.equal(403);
  });

  it('the admin API stays reachable over TLS without a client certificate', async () => {
    const r = await get('/api/v1/users', null, { Authorization: h.auth });
    expect(r.status).to.equal(200);
  });

  it('in enforce mode a verified device certificate stands in for the password', async () => {
    await setMode(h, '001565aabbcc', 'enforce');
    expect((await get('/001565aabbcc.cfg', 'phone')).status).to.equal(200);
    expect((await h.http.get('/001565aabbcc.cfg')).status).to.equal(401);
  });
});

describe('download auth: migration 010 (earlier passwords as a list)', () => {
  it('a device rotated before the upgrade keeps its previous password accepted', () => {
    const dir = mkdtempSync(join(tmpdir(), 'deskprov-m010-'));
    try {
      const path = join(dir, 'deskprov.db');
      const old = databaseBefore(path, 10);
      old.prepare(`INSERT INTO devices (mac, vendor, created_at, updated_at) VALUES ('001565aabbcc', 'yealink', 0, 0), ('001565aabbdd', 'yealink', 0, 0)`).run();
      old.prepare(`INSERT INTO device_download_auth (mac, mode, username, password, prev_password, creds_version, updated_at)
        VALUES ('001565aabbcc', 'enforce', 'dpuser', 'newpass', 'oldpass', 2, 0), ('001565aabbdd', NULL, 'dpother', 'pass', NULL, 1, 0)`).run();
      old.close();

      const upgraded = openDatabase(path);
      try {
        const stores = createStores(upgraded);
        expect(stores.downloadAuth.get('001565aabbcc')).to.include({ password: 'newpass' }).and.have.property('prevPasswords').deep.equal(['oldpass']);
        expect(stores.downloadAuth.get('001565aabbdd')).to.have.property('prevPasswords').deep.equal([]);
      } finally {
        upgraded.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
