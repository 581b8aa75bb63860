/**
 * Admin API tokens with roles, the failed-token rate limit, the append-only audit log (no
 * secrets in it), admin security headers, and no internals in any error answer.
 */
import { expect } from 'chai';
import { createHarness, type Harness } from '../helpers/harness.js';

const SIP_PASSWORD = 'sip-Secret-4711';
const NEW_SIP_PASSWORD = 'sip-Secret-0815';
const PIN = '864213';

async function token(h: Harness, name: string, role: string): Promise<string> {
  const r = await h.http.post('/api/v1/tokens').set('Authorization', h.auth).send({ name, role });
  expect(r.status, JSON.stringify(r.body)).to.equal(201);
  expect(r.body).to.include({ name, role });
  expect(r.body.token).to.match(/^dp_[A-Za-z0-9_-]{40,}$/);
  return `Bearer ${r.body.token as string}`;
}

describe('admin API tokens and roles', () => {
  let h: Harness;
  beforeEach(async () => {
    h = createHarness();
    await h.http.post('/api/v1/users').set('Authorization', h.auth).send({ extension: '1001', displayName: 'Alice', sipPassword: SIP_PASSWORD, pin: PIN });
    await h.http.post('/api/v1/devices').set('Authorization', h.auth).send({ mac: '001565aabbcc', vendor: 'yealink', model: 'T46U', hotdeskEnabled: true });
  });
  afterEach(() => h.destroy());

  it('pbx: may log a user in and out of a phone, nothing else', async () => {
    const pbx = await token(h, 'asterisk', 'pbx');
    const login = await h.http.post('/api/v1/devices/001565aabbcc/login').set('Authorization', pbx).send({ extension: '1001', pin: PIN });
    expect(login.status, JSON.stringify(login.body)).to.equal(200);
    expect((await h.http.post('/api/v1/devices/001565aabbcc/logout').set('Authorization', pbx).send({})).status).to.equal(200);
    const create = await h.http.post('/api/v1/users').set('Authorization', pbx).send({ extension: '1002', displayName: 'Bob', sipPassword: 'x-secret' });
    expect(create.status).to.equal(403);
    expect(create.body.error.code).to.equal('forbidden');
    expect((await h.http.get('/api/v1/users/1002').set('Authorization', h.auth)).status).to.equal(404);
    expect((await h.http.get('/api/v1/users').set('Authorization', pbx)).status).to.equal(403);
    expect((await h.http.post('/api/v1/tokens').set('Authorization', pbx).send({ name: 'mine', role: 'admin' })).status).to.equal(403);
  });

  it('readonly: may GET, may not change anything', async () => {
    const ro = await token(h, 'dashboard', 'readonly');
    expect((await h.http.get('/api/v1/users').set('Authorization', ro)).status).to.equal(200);
    expect((await h.http.get('/api/v1/devices/001565aabbcc').set('Authorization', ro)).status).to.equal(200);
    expect((await h.http.get('/api/v1/audit').set('Authorization', ro)).status).to.equal(200);
    expect((await h.http.post('/api/v1/users').set('Authorization', ro).send({ extension: '1002', displayName: 'Bob', sipPassword: 'x-secret' })).status).to.equal(403);
    expect((await h.http.patch('/api/v1/users/1001').set('Authorization', ro).send({ displayName: 'Mallory' })).status).to.equal(403);
    expect((await h.http.delete('/api/v1/devices/001565aabbcc').set('Authorization', ro)).status).to.equal(403);
    expect((await h.http.get('/api/v1/devices/001565aabbcc/download-auth/credentials').set('Authorization', ro)).status).to.equal(403);
    expect((await h.http.get('/api/v1/users/1001').set('Authorization', h.auth)).body.displayName).to.equal('Alice');
  });

  it('list shows no secrets; rotate replaces the token; revoke ends it', async () => {
    const first = await token(h, 'ci', 'admin');
    const list = await h.http.get('/api/v1/tokens').set('Authorization', h.auth);
    expect(list.body.tokens).to.have.length(1);
    expect(list.body.tokens[0]).to.have.keys(['name', 'role', 'createdAt', 'rotatedAt', 'lastUsedAt']);
    expect(JSON.stringify(list.body)).to.not.include(first.slice(7));

    expect((await h.http.get('/api/v1/users').set('Authorization', first)).status).to.equal(200);
    const rot = await h.http.post('/api/v1/tokens/ci/rotate').set('Authorization', h.auth);
    expect(rot.status).to.equal(200);
    const second = `Bearer ${rot.body.token as string}`;
    expect((await h.http.get('/api/v1/users').set('Authorization', first)).status).to.equal(401);
    expect((await h.http.get('/api/v1/users').set('Authorization', second)).status).to.equal(200);

    expect((await h.http.delete('/api/v1/tokens/ci').set('Authorization', h.auth)).status).to.equal(204);
    expect((await h.http.get('/api/v1/users').set('Authorization', second)).status).to.equal(401);
    expect((await h.http.delete('/api/v1/tokens/ci').set('Authorization', h.auth)).status).to.equal(404);
  });

  it('refuses duplicate, reserved and malformed names and unknown roles with a 400/409', async () => {
    await token(h, 'ci', 'readonly');
    expect((await h.http.post('/api/v1/tokens').set('Authorization', h.auth).send({ name: 'ci', role: 'admin' })).status).to.equal(409);
    expect((await h.http.post('/api/v1/tokens').set('Authorization', h.auth).send({ name: 'admin', role: 'admin' })).status).to.equal(400);
    expect((await h.http.post('/api/v1/tokens').set('Authorization', h.auth).send({ name: 'a b', role: 'admin' })).status).to.equal(400);
    expect((await h.http.post('/api/v1/tokens').set('Authorization', h.auth).send({ name: 'x', role: 'root' })).status).to.equal(400);
    expect((await h.http.get('/api/v1/tokens').set('Authorization', h.auth)).body.tokens).to.have.length(1);
  });

  it('20 wrong tokens from one address → 429 with Retry-After for 15 minutes, even with the right token', async () => {
    for (let i = 0; i < 20; i++) {
      const r = await h.http.get('/api/v1/users').set('Authorization', `Bearer wrong-token-${i}`);
      expect(r.status, `attempt ${i + 1}`).to.equal(401);
    }
    const blocked = await h.http.get('/api/v1/users').set('Authorization', h.auth);
    expect(blocked.status).to.equal(429);
    expect(blocked.headers['retry-after']).to.equal('900');
    expect(blocked.body.error.code).to.equal('too_many_requests');
    expect(h.logs.some((l) => l.kind === 'ip-blocked' && l.scope === 'admin-api')).to.equal(true);
    h.clock.advance(15 * 60_000);
    expect((await h.http.get('/api/v1/users').set('Authorization', h.auth)).status).to.equal(200);
  });

  it('requests without a token are refused but not counted', async () => {
    for (let i = 0; i < 30; i++) expect((await h.http.get('/api/v1/users')).status).to.equal(401);
    expect((await h.http.get('/api/v1/users').set('Authorization', h.auth)).status).to.equal(200);
  });
});

describe('audit log', () => {
  let h: Harness;
  beforeEach(() => {
    h = createHarness();
  });
  afterEach(() => h.destroy());

  async function ok(p: PromiseLike<{ status: number; body: unknown }>, status: number) {
    const r = await p;
    expect(r.status, JSON.stringify(r.body)).to.equal(status);
    return r;
  }

  it('records every admin change with actor and role, and never a secret', async () => {
    const ops = await token(h, 'ops', 'admin');
    await ok(h.http.post('/api/v1/users').set('Authorization', ops).send({ extension: '1001', displayName: 'Alice', sipPassword: SIP_PASSWORD, pin: PIN }), 201);
    await ok(h.http.patch('/api/v1/users/1001').set('Authorization', ops).send({ sipPassword: NEW_SIP_PASSWORD, pin: '975310', displayName: 'Alice B' }), 200);
    const loc = await ok(h.http.post('/api/v1/locations').set('Authorization', ops).send({ name: 'HQ', emergencyNumbers: ['911'] }), 201);
    const locId = (loc.body as { id: number }).id;
    await ok(h.http.patch(`/api/v1/locations/${locId}`).set('Authorization', ops).send({ address: '1 Main St' }), 200);
    await ok(h.http.post('/api/v1/devices').set('Authorization', ops).send({ mac: '001565aabbcc', vendor: 'yealink', model: 'T46U', ownerExtension: '1001', locationId: locId }), 201);
    await ok(h.http.patch('/api/v1/devices/001565aabbcc').set('Authorization', ops).send({ label: 'Desk 4' }), 200);
    await ok(h.http.put('/api/v1/devices/001565aabbcc/download-auth').set('Authorization', ops).send({ mode: 'provision' }), 200);
    const creds = await ok(h.http.get('/api/v1/devices/001565aabbcc/download-auth/credentials').set('Authorization', ops), 200);
    const downloadPassword = (creds.body as { password: string }).password;
    await ok(h.http.post('/api/v1/devices/001565aabbcc/download-auth/rotate').set('Authorization', ops), 200);
    await ok(h.http.delete('/api/v1/devices/001565aabbcc').set('Authorization', ops), 204);
    await ok(h.http.delete(`/api/v1/locations/${locId}`).set('Authorization', ops), 204);
    await ok(h.http.delete('/api/v1/users/1001').set('Authorization', ops), 204);

    const all = await ok(h.http.get('/api/v1/audit?limit=1000').set('Authorization', h.auth), 200);
    const entries = (all.body as { entries: Array<{ actor: string; role: string; action: string; target: string; before: unknown; after: unknown }> }).entries;
    const actions = entries.map((e) => e.action).reverse();
    expect(actions[0]).to.equal('token.create');
    for (const a of ['user.create', 'user.update', 'user.delete', 'location.create', 'location.update', 'location.delete',
      'device.create', 'device.update', 'device.delete', 'device.download-auth', 'device.download-auth.reveal', 'device.download-auth.rotate']) {
      expect(actions, a).to.include(a);
    }
    const update = entries.find((e) => e.action === 'user.update')!;
    expect(update).to.include({ actor: 'ops', role: 'admin', target: 'user:1001' });
    expect(update.before).to.include({ displayName: 'Alice' });
    expect(update.after).to.include({ displayName: 'Alice B' });

    const opsToken = ops.slice(7);
    const dump = JSON.stringify(h.db.prepare('SELECT * FROM audit_log').all());
    for (const secret of [SIP_PASSWORD, NEW_SIP_PASSWORD, PIN, '975310', opsToken, downloadPassword]) {
      expect(dump, 'a secret in the audit table').to.not.include(secret);
    }
    expect(dump).to.not.match(/scrypt|\$[0-9a-z]+\$/i);
  });

  it('filters by actor, action prefix, target and time, and pages backwards', async () => {
    for (let i = 0; i < 5; i++) {
      await ok(h.http.post('/api/v1/users').set('Authorization', h.auth).send({ extension: `20${i}`, displayName: `U${i}`, sipPassword: 'pw-secret' }), 201);
      h.clock.advance(60_000);
    }
    await ok(h.http.post('/api/v1/locations').set('Authorization', h.auth).send({ name: 'HQ' }), 201);
    const users = await ok(h.http.get('/api/v1/audit?action=user.&actor=admin').set('Authorization', h.auth), 200);
    expect((users.body as { entries: unknown[] }).entries).to.have.length(5);
    const one = await ok(h.http.get('/api/v1/audit?target=user:203').set('Authorization', h.auth), 200);
    expect((one.body as { entries: unknown[] }).entries).to.have.length(1);
    const since = new Date(h.clock.now() - 90_000).toISOString();
    const recent = await ok(h.http.get(`/api/v1/audit?since=${since}`).set('Authorization', h.auth), 200);
    expect((recent.body as { entries: Array<{ target: string }> }).entries.map((e) => e.target)).to.deep.equal(['location:1', 'user:204']);
    const p1 = (await ok(h.http.get('/api/v1/audit?limit=4').set('Authorization', h.auth), 200)).body as { entries: Array<{ id: number }>; nextBefore: number };
    expect(p1.entries).to.have.length(4);
    const p2 = (await ok(h.http.get(`/api/v1/audit?limit=4&before=${p1.nextBefore}`).set('Authorization', h.auth), 200)).body as { entries: Array<{ id: number }>; nextBefore: number | null };
    expect(p2.entries).to.have.length(2);
    expect(p2.nextBefore).to.equal(null);
    expect(p2.entries[0]!.id).to.be.lessThan(p1.entries[3]!.id);
    await ok(h.http.get('/api/v1/audit?since=yesterday').set('Authorization', h.auth), 400);
    await ok(h.http.get('/api/v1/audit?limit=0').set('Authorization', h.auth), 400);
  });

  it('is append-only: UPDATE and DELETE are refused by the database itself', async () => {
    await ok(h.http.post('/api/v1/locations').set('Authorization', h.auth).send({ name: 'HQ' }), 201);
    expect(() => h.db.prepare("UPDATE audit_log SET actor = 'nobody'").run()).to.throw(/append-only/);
    expect(() => h.db.prepare('DELETE FROM audit_log').run()).to.throw(/append-only/);
    expect(h.db.prepare('SELECT count(*) AS n FROM audit_log').get()).to.deep.equal({ n: 1 });
  });

  it('a change that fails leaves no audit entry', async () => {
    await ok(h.http.post('/api/v1/devices').set('Authorization', h.auth).send({ mac: '001565aabbcc', vendor: 'yealink', ownerExtension: '9999' }), 400);
    expect(h.db.prepare('SELECT count(*) AS n FROM audit_log').get()).to.deep.equal({ n: 0 });
  });
});

describe('admin API answers: headers and no internals', () => {
  let h: Harness;
  beforeEach(() => {
    h = createHarness();
  });
  afterEach(() => h.destroy());

  it('every /api/v1 answer, errors included, is nosniff and no-store', async () => {
    for (const r of [
      await h.http.get('/api/v1/users').set('Authorization', h.auth),
      await h.http.get('/api/v1/users'),
      await h.http.get('/api/v1/no-such-thing').set('Authorization', h.auth),
      await h.http.post('/api/v1/users').set('Authorization', h.auth).set('Content-Type', 'application/json').send('{"broken'),
    ]) {
      expect(r.headers['x-content-type-options'], `${r.status}`).to.equal('nosniff');
      expect(r.headers['cache-control'], `${r.status}`).to.equal('no-store');
    }
  });

  it('a body with several problems names them all at once, the PIN among them, and creates nothing', async () => {
    const r = await h.http.post('/api/v1/users').set('Authorization', h.auth).send({ extension: '2001', pin: 'abcd' });
    expect(r.status).to.equal(400);
    expect((r.body.error.details.fields as { field: string; message: string }[]).map((f) => f.field)).to.deep.equal(['displayName', 'sipPassword', 'pin']);
    expect(r.body.error.details.fields[2].message).to.equal('PIN must contain digits only');
    expect((await h.http.get('/api/v1/users/2001').set('Authorization', h.auth)).status).to.equal(404);
  });

  it('JSON sent without saying so gets a 400 that names the missing Content-Type, and creates nothing', async () => {
    const r = await h.http.post('/api/v1/users').set('Authorization', h.auth).set('Content-Type', 'text/x-anything')
      .send(JSON.stringify({ extension: '2001', displayName: 'Zed', sipPassword: 'pw-2001-long' }));
    expect(r.status).to.equal(400);
    expect(r.body.error.message).to.equal('body: expected a JSON object, sent with Content-Type: application/json');
    expect((await h.http.get('/api/v1/users/2001').set('Authorization', h.auth)).status).to.equal(404);
  });

  it('a database error reaches nobody: the API says "internal error", the phone gets a bare 500', async () => {
    const boom = () => {
      const err = new Error('SQLITE_CORRUPT: database disk image is malformed (SELECT * FROM users WHERE sip_password = ?)');
      (err as Error & { code: string }).code = 'SQLITE_CORRUPT';
      throw err;
    };
    h.ctx.stores.users.list = boom;
    h.ctx.stores.devices.get = boom;
    h.ctx.stores.devices.head = boom;
    const api = await h.http.get('/api/v1/users').set('Authorization', h.auth);
    expect(api.status).to.equal(500);
    expect(api.body).to.deep.equal({ error: { code: 'internal', message: 'internal error' } });
    const phone = await h.http.get('/001565aabbcc.cfg');
    expect(phone.status).to.equal(500);
    for (const text of [api.text, phone.text]) {
      expect(text).to.not.match(/SQLITE|SELECT|sip_password|at .*\.ts:\d+|Error:/);
    }
    expect(h.logs.filter((l) => l.level === 50)).to.have.length(2);
  });
});
