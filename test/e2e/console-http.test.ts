/**
 * The console's HTTP contract without a browser: sign-in cookie flags, CSRF on every change,
 * security headers, session expiry and sign-out, and the admin-only SIP line reveal.
 */
import { expect } from 'chai';
import supertest from 'supertest';
import { createApp } from '../../server/app.js';
import { hashToken, type Authenticator } from '../../server/services/tokens.js';
import { ADMIN_TOKEN, createHarness, type Harness } from '../helpers/harness.js';

const HOUR = 3_600_000;

function cookieOf(res: { headers: Record<string, unknown> }): string {
  const set = res.headers['set-cookie'] as string[] | undefined;
  const c = set?.find((s) => s.startsWith('dp_session='));
  if (!c) throw new Error('no dp_session cookie was set');
  return c;
}

describe('admin console: sign-in, cookie, CSRF and headers', () => {
  let h: Harness;
  beforeEach(() => {
    h = createHarness();
  });
  afterEach(() => h.destroy());

  async function signIn(): Promise<{ cookie: string; csrf: string; setCookie: string }> {
    const res = await h.http.post('/admin/login').send({ token: ADMIN_TOKEN });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const setCookie = cookieOf(res);
    return { cookie: setCookie.split(';')[0]!, csrf: res.body.csrfToken as string, setCookie };
  }

  it('refuses a wrong token with 401 and sets no cookie', async () => {
    const res = await h.http.post('/admin/login').send({ token: 'not-the-token-at-all' });
    expect(res.status).to.equal(401);
    expect(res.body.error.message).to.equal('that token is not valid');
    expect(res.headers['set-cookie']).to.equal(undefined);
  });

  async function namedToken(name: string, role: 'pbx' | 'readonly'): Promise<string> {
    const r = await h.http.post('/api/v1/tokens').set('Authorization', h.auth).send({ name, role });
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    return r.body.token as string;
  }
  const sessionCount = () => (h.db.prepare('SELECT count(*) AS n FROM console_sessions').get() as { n: number }).n;

  it('refuses a pbx token with 403, a message saying which tokens it takes, and no cookie', async () => {
    const pbx = await namedToken('asterisk', 'pbx');
    const res = await h.http.post('/admin/login').send({ token: pbx });
    expect(res.status, JSON.stringify(res.body)).to.equal(403);
    expect(res.body.error.code).to.equal('forbidden');
    expect(res.body.error.message).to.include('pbx token cannot sign in to the console').and.include('admin or readonly');
    expect(res.headers['set-cookie']).to.equal(undefined);
    const form = await h.http.post('/admin/login').type('form').send({ token: pbx });
    expect(form.status).to.equal(303);
    expect(form.headers.location).to.equal('/admin/login?error=role');
    expect(form.headers['set-cookie']).to.equal(undefined);
    expect(sessionCount()).to.equal(0);
    // The token itself still works where it belongs: the API.
    expect((await h.http.get('/api/v1/sessions').set('Authorization', `Bearer ${pbx}`)).status).to.equal(200);
  });

  it('a readonly token signs in to a console that reads but cannot change', async () => {
    const ro = await namedToken('viewer', 'readonly');
    const res = await h.http.post('/admin/login').send({ token: ro });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.actor).to.deep.equal({ name: 'viewer', role: 'readonly' });
    const cookie = cookieOf(res).split(';')[0]!;
    expect((await h.http.get('/api/v1/users').set('Cookie', cookie)).status).to.equal(200);
    const change = await h.http.post('/api/v1/users').set('Cookie', cookie).set('X-CSRF-Token', res.body.csrfToken as string).send({ extension: '2001', displayName: 'Zoe', sipPassword: 'pw-zoe-1' });
    expect(change.status).to.equal(403);
  });

  it('a pbx console session stored before the check opens nothing', async () => {
    const id = 'a-pbx-session-id-from-an-older-version';
    const now = h.clock.now();
    h.ctx.consoleSessions.insert({ idHash: hashToken(id), actor: { name: 'asterisk', role: 'pbx' }, csrfToken: 'csrf-csrf-csrf-csrf', createdAt: now, expiresAt: now + HOUR });
    const cookie = `dp_session=${id}`;
    expect((await h.http.get('/admin/session').set('Cookie', cookie)).status).to.equal(401);
    expect((await h.http.get('/api/v1/sessions').set('Cookie', cookie)).status).to.equal(401);
    const page = await h.http.get('/admin/').set('Cookie', cookie);
    expect(page.status).to.equal(303);
    expect(page.headers.location).to.equal('/admin/login');
  });

  it('a plain form post signs in with a redirect to the console, and a wrong token back to the form', async () => {
    const good = await h.http.post('/admin/login').type('form').send({ token: ADMIN_TOKEN });
    expect(good.status).to.equal(303);
    expect(good.headers.location).to.equal('/admin/');
    cookieOf(good);
    const bad = await h.http.post('/admin/login').type('form').send({ token: 'wrong-token-wrong-token' });
    expect(bad.status).to.equal(303);
    expect(bad.headers.location).to.equal('/admin/login?error=unauthorized');
  });

  it('sets an HttpOnly, SameSite=Strict session cookie for path /; Secure only over HTTPS', async () => {
    const { setCookie } = await signIn();
    expect(setCookie).to.match(/; HttpOnly/);
    expect(setCookie).to.match(/; SameSite=Strict/);
    expect(setCookie).to.match(/; Path=\//);
    expect(setCookie).not.to.match(/; Secure/);

    const behindTls = createHarness({ config: { http: { trustProxy: true } } });
    try {
      const res = await behindTls.http.post('/admin/login').set('X-Forwarded-Proto', 'https').send({ token: ADMIN_TOKEN });
      expect(cookieOf(res)).to.match(/; Secure/);
    } finally {
      behindTls.destroy();
    }
  });

  it('stores only a hash of the session id', async () => {
    const { cookie } = await signIn();
    const id = cookie.split('=')[1]!;
    const rows = h.db.prepare('SELECT * FROM console_sessions').all() as Array<Record<string, unknown>>;
    expect(rows).to.have.length(1);
    expect(JSON.stringify(rows)).not.to.contain(id);
  });

  it('reads the API with the cookie, but a change without the CSRF header is 403 and changes nothing', async () => {
    const { cookie, csrf } = await signIn();
    expect((await h.http.get('/api/v1/users').set('Cookie', cookie)).status).to.equal(200);

    const user = { extension: '2001', displayName: 'Zoe', sipPassword: 'pw-zoe-1' };
    const noHeader = await h.http.post('/api/v1/users').set('Cookie', cookie).send(user);
    expect(noHeader.status).to.equal(403);
    expect(noHeader.body.error.message).to.contain('X-CSRF-Token');
    const wrong = await h.http.post('/api/v1/users').set('Cookie', cookie).set('X-CSRF-Token', `${csrf}x`).send(user);
    expect(wrong.status).to.equal(403);
    expect((await h.http.get('/api/v1/users').set('Cookie', cookie)).body.users).to.deep.equal([]);

    const ok = await h.http.post('/api/v1/users').set('Cookie', cookie).set('X-CSRF-Token', csrf).send(user);
    expect(ok.status, JSON.stringify(ok.body)).to.equal(201);
  });

  it('without a cookie or with a forged one the API still answers 401; the bearer token still works', async () => {
    expect((await h.http.get('/api/v1/users')).status).to.equal(401);
    expect((await h.http.get('/api/v1/users').set('Cookie', 'dp_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).status).to.equal(401);
    expect((await h.http.get('/api/v1/users').set('Authorization', h.auth)).status).to.equal(200);
  });

  it('puts strict security headers on every /admin answer', async () => {
    for (const path of ['/admin/login', '/admin/app.js', '/admin/style.css', '/admin/session', '/admin/nope']) {
      const res = await h.http.get(path);
      const csp = res.headers['content-security-policy'] as string;
      expect(csp, path).to.contain("default-src 'self'");
      expect(csp).to.contain("script-src 'self'");
      expect(csp).not.to.contain('unsafe-inline');
      expect(csp).to.contain("frame-ancestors 'none'");
      expect(res.headers['x-frame-options']).to.equal('DENY');
      expect(res.headers['x-content-type-options']).to.equal('nosniff');
      expect(res.headers['referrer-policy']).to.equal('no-referrer');
    }
  });

  it('serves the pages and modules with the right types, and keeps the console shell behind sign-in', async () => {
    expect((await h.http.get('/admin/app.js')).headers['content-type']).to.match(/^(text|application)\/javascript/);
    expect((await h.http.get('/admin/pages/devices.js')).headers['content-type']).to.match(/javascript/);
    expect((await h.http.get('/admin/style.css')).headers['content-type']).to.match(/^text\/css/);
    const login = await h.http.get('/admin/login');
    expect(login.headers['content-type']).to.match(/^text\/html/);
    expect(login.text).to.contain('<label for="token">Admin token</label>');
    expect(login.text).not.to.match(/<script(?![^>]*\bsrc=)[^>]*>/);

    const anon = await h.http.get('/admin/');
    expect(anon.status).to.equal(303);
    expect(anon.headers.location).to.equal('/admin/login');
    expect((await h.http.get('/admin')).status).to.equal(301);
    const { cookie } = await signIn();
    const shell = await h.http.get('/admin/').set('Cookie', cookie);
    expect(shell.status).to.equal(200);
    expect(shell.text).to.contain('<nav aria-label="Main">');
  });

  it('refuses a sign-in posted from another site', async () => {
    const res = await h.http.post('/admin/login').set('Origin', 'https://evil.example').send({ token: ADMIN_TOKEN });
    expect(res.status).to.equal(403);
    expect(res.headers['set-cookie']).to.equal(undefined);
  });

  it('wrong tokens at sign-in count towards the same address block as the API', async () => {
    const guarded = createHarness({ config: { security: { adminAuth: { maxFailures: 3 } } } });
    try {
      for (let i = 0; i < 3; i++) expect((await guarded.http.post('/admin/login').send({ token: `wrong-token-number-${i}` })).status).to.equal(401);
      const blocked = await guarded.http.post('/admin/login').send({ token: ADMIN_TOKEN });
      expect(blocked.status).to.equal(429);
      expect(Number(blocked.headers['retry-after'])).to.be.greaterThan(0);
      expect(blocked.headers['set-cookie']).to.equal(undefined);
      expect((await guarded.http.get('/api/v1/users').set('Authorization', guarded.auth)).status).to.equal(429);
    } finally {
      guarded.destroy();
    }
  });

  it('rotating or revoking a named token signs out the console sessions made with it', async () => {
    for (const action of ['rotate', 'revoke'] as const) {
      const name = `ops-${action}`;
      const made = await h.http.post('/api/v1/tokens').set('Authorization', h.auth).send({ name, role: 'admin' });
      expect(made.status, JSON.stringify(made.body)).to.equal(201);
      const res = await h.http.post('/admin/login').send({ token: made.body.token });
      const cookie = cookieOf(res).split(';')[0]!;
      expect((await h.http.get('/api/v1/users').set('Cookie', cookie)).status).to.equal(200);
      const done = action === 'rotate'
        ? await h.http.post(`/api/v1/tokens/${name}/rotate`).set('Authorization', h.auth)
        : await h.http.delete(`/api/v1/tokens/${name}`).set('Authorization', h.auth);
      expect(done.status).to.be.within(200, 204);
      expect((await h.http.get('/api/v1/users').set('Cookie', cookie)).status).to.equal(401);
    }
  });

  it('a session ends after 12 hours', async () => {
    const { cookie } = await signIn();
    h.clock.advance(12 * HOUR - 1000);
    expect((await h.http.get('/admin/session').set('Cookie', cookie)).status).to.equal(200);
    h.clock.advance(2000);
    expect((await h.http.get('/admin/session').set('Cookie', cookie)).status).to.equal(401);
    expect((await h.http.get('/api/v1/users').set('Cookie', cookie)).status).to.equal(401);
  });

  it('signing out needs the CSRF token, then the cookie no longer works', async () => {
    const { cookie, csrf } = await signIn();
    expect((await h.http.post('/admin/logout').set('Cookie', cookie)).status).to.equal(403);
    expect((await h.http.get('/api/v1/users').set('Cookie', cookie)).status).to.equal(200);
    const out = await h.http.post('/admin/logout').set('Cookie', cookie).set('X-CSRF-Token', csrf);
    expect(out.status).to.equal(204);
    expect(String(out.headers['set-cookie'])).to.match(/dp_session=;.*Expires=Thu, 01 Jan 1970/);
    expect((await h.http.get('/api/v1/users').set('Cookie', cookie)).status).to.equal(401);
    expect(h.db.prepare('SELECT count(*) AS n FROM console_sessions').get()).to.deep.equal({ n: 0 });
    const audit = await h.http.get('/api/v1/audit').query({ action: 'console.' }).set('Authorization', h.auth);
    expect(audit.status).to.equal(200);
    expect(JSON.stringify(audit.body)).to.include('console.sign-in').and.include('console.sign-out');
  });
});

describe('GET /api/v1/devices/:mac/line (SIP settings for a hand-configured phone)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = createHarness();
    const post = (path: string, body: object) => h.http.post(`/api/v1${path}`).set('Authorization', h.auth).send(body);
    expect((await post('/users', { extension: '1001', displayName: 'Alice', sipPassword: 's3cret-alice' })).status).to.equal(201);
    expect((await post('/devices', { mac: '001565aabbcc', vendor: 'yealink', ownerExtension: '1001' })).status).to.equal(201);
    expect((await post('/devices', { mac: '001565aabbdd', vendor: 'yealink' })).status).to.equal(201);
  });
  afterEach(() => h.destroy());

  it('gives the admin the current line with its password, never cached', async () => {
    const res = await h.http.get('/api/v1/devices/00:15:65:AA:BB:CC/line').set('Authorization', h.auth);
    expect(res.status).to.equal(200);
    expect(res.headers['cache-control']).to.equal('no-store');
    expect(res.body).to.include({ server: 'pbx.test', port: 5060, transport: 'udp', userId: '1001', password: 's3cret-alice', extension: '1001', displayName: 'Alice' });
  });

  it('records who revealed it in the audit log, without the password', async () => {
    await h.http.get('/api/v1/devices/001565aabbcc/line').set('Authorization', h.auth);
    const rows = h.db.prepare("SELECT * FROM audit_log WHERE action = 'device.line.reveal'").all() as Array<Record<string, unknown>>;
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ actor: 'admin', target: 'device:001565aabbcc' });
    expect(JSON.stringify(rows)).not.to.contain('s3cret-alice');
  });

  it('is 404 for an unassigned device and for an unknown one, and 400 for a bad MAC', async () => {
    expect((await h.http.get('/api/v1/devices/001565aabbdd/line').set('Authorization', h.auth)).status).to.equal(404);
    expect((await h.http.get('/api/v1/devices/001565000000/line').set('Authorization', h.auth)).status).to.equal(404);
    expect((await h.http.get('/api/v1/devices/nope/line').set('Authorization', h.auth)).status).to.equal(400);
  });

  it('is refused to a read-only token and to nobody', async () => {
    const auth: Authenticator = {
      authenticate: (t) => (t === 'readonly-token' ? { name: 'viewer', role: 'readonly' } : h.ctx.auth.authenticate(t)),
    };
    const http = supertest(createApp({ ...h.ctx, auth }).listener);
    const ro = await http.get('/api/v1/devices/001565aabbcc/line').set('Authorization', 'Bearer readonly-token');
    expect(ro.status).to.equal(403);
    expect(JSON.stringify(ro.body)).not.to.contain('s3cret-alice');
    expect((await http.get('/api/v1/devices/001565aabbcc').set('Authorization', 'Bearer readonly-token')).status).to.equal(200);
    expect((await h.http.get('/api/v1/devices/001565aabbcc/line')).status).to.equal(401);
  });
});
