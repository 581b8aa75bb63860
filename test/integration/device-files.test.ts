/**
 * Files a Polycom phone uploaded (logs, overrides, directory) are readable by admins and
 * read-only tokens through /api/v1/devices/:mac/files, as downloads, and by nobody else.
 */
import { expect } from 'chai';
import type { Response } from 'supertest';
import { createHarness, type Harness } from '../helpers/harness.js';

const MAC = '0004f2aabbcc';
const UA = 'FileTransport PolycomVVX-VVX_450-UA/6.4.3.5017 (SN:0004f2aabbcc) Type/Application';

const ok = (r: { status: number; body: unknown }, status = 200) => expect(r.status, JSON.stringify(r.body)).to.equal(status);

/** The answer body as bytes, whatever its Content-Type. */
const bytes = (req: ReturnType<Harness['http']['get']>) =>
  req.buffer(true).parse((res, cb) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => cb(null, Buffer.concat(chunks)));
  }) as unknown as Promise<Response & { body: Buffer }>;

describe('admin API: files a phone uploaded', () => {
  let h: Harness;
  let readonly: string;
  let pbx: string;
  const token = async (name: string, role: string) => {
    const r = await h.http.post('/api/v1/tokens').set('Authorization', h.auth).send({ name, role });
    ok(r, 201);
    return `Bearer ${r.body.token as string}`;
  };
  const phonePut = async (file: string, body: string | Buffer, type = 'text/plain') =>
    expect((await h.http.put(`/${file}`).set('User-Agent', UA).type(type).send(body)).status).to.be.within(200, 204);

  beforeEach(async () => {
    h = createHarness();
    ok(await h.http.post('/api/v1/devices').set('Authorization', h.auth).send({ mac: MAC, vendor: 'polycom', model: 'VVX450' }), 201);
    ok(await h.http.post('/api/v1/devices').set('Authorization', h.auth).send({ mac: '001565aabbcc', vendor: 'yealink', model: 'T46U' }), 201);
    readonly = await token('dashboard', 'readonly');
    pbx = await token('asterisk', 'pbx');
  });
  afterEach(() => h.destroy());

  it('lists what the phone uploaded and hands an admin its log as a plain-text download', async () => {
    await phonePut(`${MAC}-app.log`, '0101000000|sip  |4|00|Registration failed\n');
    h.clock.advance(60_000);
    await phonePut(`${MAC}-app.log`, '0101000100|sip  |4|00|Registered line 1\n');
    await phonePut(`${MAC}-phone.cfg`, '<PHONE_CONFIG><OVERRIDES up.backlight.idleIntensity="1"/></PHONE_CONFIG>');

    const list = await h.http.get(`/api/v1/devices/${MAC}/files`).set('Authorization', h.auth);
    ok(list);
    expect(list.body.files).to.deep.equal([
      { slot: 'app.log', kind: 'log', size: 82, updatedAt: new Date(h.clock.now()).toISOString() },
      { slot: 'phone.cfg', kind: 'upload', size: 72, updatedAt: new Date(h.clock.now()).toISOString() },
    ]);

    const log = await h.http.get(`/api/v1/devices/${MAC}/files/app.log`).set('Authorization', h.auth);
    ok(log);
    expect(log.text).to.equal('0101000000|sip  |4|00|Registration failed\n0101000100|sip  |4|00|Registered line 1\n');
    expect(log.headers['content-type']).to.equal('text/plain; charset=utf-8');
    expect(log.headers['content-disposition']).to.equal(`attachment; filename="${MAC}-app.log"`);
    expect(log.headers['x-content-type-options']).to.equal('nosniff');
    expect(log.headers['cache-control']).to.equal('no-store');
    expect(log.headers['content-security-policy']).to.equal("default-src 'none'; sandbox");

    // The phone itself still never gets its log back.
    expect((await h.http.get(`/${MAC}-app.log`).set('User-Agent', UA)).status).to.equal(404);
  });

  it('serves other uploads as opaque bytes, unchanged', async () => {
    const binary = Buffer.from([0x3c, 0x00, 0xff, 0xfe, 0x0d, 0x0a, 0x3e]);
    await phonePut(`${MAC}-directory.xml`, binary, 'application/octet-stream');
    const r = await bytes(h.http.get(`/api/v1/devices/${MAC}/files/directory.xml`).set('Authorization', h.auth));
    ok(r);
    expect(r.headers['content-type']).to.equal('application/octet-stream');
    expect(r.headers['content-disposition']).to.equal(`attachment; filename="${MAC}-directory.xml"`);
    expect(r.headers['x-content-type-options']).to.equal('nosniff');
    expect(Buffer.compare(r.body, binary)).to.equal(0);
  });

  it('readonly may read them; pbx and no token may not; reading a file is audited', async () => {
    await phonePut(`${MAC}-boot.log`, 'boot ok\n');
    ok(await h.http.get(`/api/v1/devices/${MAC}/files`).set('Authorization', readonly));
    const r = await h.http.get(`/api/v1/devices/${MAC}/files/boot.log`).set('Authorization', readonly);
    ok(r);
    expect(r.text).to.equal('boot ok\n');
    for (const path of [`/api/v1/devices/${MAC}/files`, `/api/v1/devices/${MAC}/files/boot.log`]) {
      expect((await h.http.get(path).set('Authorization', pbx)).status, path).to.equal(403);
      expect((await h.http.get(path)).status, path).to.equal(401);
    }
    const audit = await h.http.get(`/api/v1/audit?target=device:${MAC}&action=device.file.`).set('Authorization', h.auth);
    ok(audit);
    expect(audit.body.entries.map((e: { action: string; actor: string; role: string; after: unknown }) => [e.action, e.actor, e.role, e.after])).to.deep.equal([
      ['device.file.read', 'dashboard', 'readonly', { slot: 'boot.log', size: 8 }],
    ]);
  });

  it('shows a file another process stored after this one saw it missing (phone workers write uploads)', async () => {
    expect((await h.http.get(`/${MAC}-directory.xml`).set('User-Agent', UA)).status).to.equal(404); // the miss is remembered
    h.db.prepare('INSERT INTO device_files (mac, slot, content, updated_at) VALUES (?, ?, ?, ?)').run(MAC, 'directory.xml', Buffer.from('<directory/>'), h.clock.now());
    const r = await bytes(h.http.get(`/api/v1/devices/${MAC}/files/directory.xml`).set('Authorization', h.auth));
    ok(r);
    expect(r.body.toString()).to.equal('<directory/>');
  });

  it('404 for an unknown device or a file never uploaded; 400 naming the field for a bad slot or MAC', async () => {
    const get = (path: string) => h.http.get(path).set('Authorization', h.auth);
    const unknownDevice = await get('/api/v1/devices/0004f2000001/files');
    expect(unknownDevice.status).to.equal(404);
    expect(unknownDevice.body.error.code).to.equal('not_found');
    expect((await get('/api/v1/devices/0004f2000001/files/app.log')).status).to.equal(404);
    const missing = await get(`/api/v1/devices/${MAC}/files/calls.xml`);
    expect(missing.status).to.equal(404);
    expect(missing.body.error.message).to.equal(`file calls.xml of device ${MAC} not found`);
    expect((await get('/api/v1/devices/001565aabbcc/files')).body).to.deep.equal({ files: [] });

    for (const slot of ['secret.txt', 'APP.LOG', '..%2F..%2Fdeskprov.db', 'app.log%00', 'deskprov.cfg']) {
      const r = await get(`/api/v1/devices/${MAC}/files/${slot}`);
      expect(r.status, slot).to.equal(400);
      expect(r.body.error.message, slot).to.match(/^slot: expected one of .*app\.log/);
      expect(r.body.error.details.fields).to.deep.equal([{ field: 'slot', message: 'unknown file slot' }]);
    }
    const badMac = await get('/api/v1/devices/not-a-mac/files');
    expect(badMac.status).to.equal(400);
    expect(badMac.body.error.message).to.match(/^mac: /);
    // Nothing read, nothing audited.
    expect((await get('/api/v1/audit?action=device.file.').then((r) => r.body.entries)).length).to.equal(0);
  });
});
