/**
 * The phone hot path caches device rows, download-auth rows and rendered bytes. These tests
 * show a phone never gets a stale answer once a change is acknowledged, whatever changed.
 */
import { expect } from 'chai';
import { createHarness, type Harness } from '../helpers/harness.js';

const MAC = '001565aabbcc';
const UA = 'Yealink SIP-T46U 108.86.0.90 00:15:65:aa:bb:cc';

describe('hot path caches never serve a stale answer', () => {
  let h: Harness;
  const fetchCfg = () => h.http.get(`/${MAC}.cfg`).set('User-Agent', UA);
  const api = (method: 'post' | 'patch' | 'put' | 'delete', path: string, body?: object) =>
    h.http[method](`/api/v1/${path}`).set('Authorization', h.auth).send(body);

  beforeEach(async () => {
    h = createHarness();
    await api('post', 'users', { extension: '1001', displayName: 'Alice', sipPassword: 's3cret-alice' }).expect(201);
    await api('post', 'users', { extension: '1002', displayName: 'Bob', sipPassword: 's3cret-bob' }).expect(201);
    await api('post', 'devices', { mac: MAC, vendor: 'yealink', model: 'T46U', ownerExtension: '1001' }).expect(201);
  });
  afterEach(() => h.destroy());

  it('an owner change is served on the very next fetch, even right after a cached one', async () => {
    expect((await fetchCfg()).text).to.include('s3cret-alice');
    expect((await fetchCfg()).text).to.include('s3cret-alice'); // cached now
    await api('patch', `devices/${MAC}`, { ownerExtension: '1002' }).expect(200);
    const next = await fetchCfg();
    expect(next.text).to.include('s3cret-bob').and.not.include('s3cret-alice');
  });

  it('a device deleted and added again is a new device: unknown in between, then served afresh', async () => {
    await fetchCfg().expect(200);
    await api('delete', `devices/${MAC}`).expect(204);
    await fetchCfg().expect(404);
    await api('post', 'devices', { mac: MAC, vendor: 'yealink', model: 'T46U' }).expect(201);
    const again = await fetchCfg().expect(200);
    expect(again.text).to.not.include('s3cret');
  });

  it("a device deleted and added again shows only its own fetches, and its sync shows the fetch after the re-add", async () => {
    await fetchCfg().expect(200); // recorded, not yet written: the delete writes it first, and takes it
    h.clock.advance(1000);
    await api('delete', `devices/${MAC}`).expect(204);
    await api('post', 'devices', { mac: MAC, vendor: 'yealink', model: 'T46U', ownerExtension: '1001' }).expect(201);
    const before = (await h.http.get(`/api/v1/devices/${MAC}`).set('Authorization', h.auth).expect(200)).body;
    expect(before.fetches).to.deep.equal([]);
    expect(before.lastFetch).to.equal(null);
    h.clock.advance(1000);
    await fetchCfg().expect(200);
    const after = (await h.http.get(`/api/v1/devices/${MAC}`).set('Authorization', h.auth).expect(200)).body;
    expect(after.fetches.map((f: { at: string }) => f.at)).to.deep.equal([new Date(h.clock.now()).toISOString()]);
    expect(after.sync.fetchedVersion).to.equal(after.sync.configVersion);
  });

  it('an unknown MAC that is then added is served at once (the "unknown" answer is not kept)', async () => {
    const other = '001565000099';
    const ua = 'Yealink SIP-T46U 108.86.0.90 00:15:65:00:00:99';
    await h.http.get(`/${other}.cfg`).set('User-Agent', ua).expect(404);
    await api('post', 'devices', { mac: other, vendor: 'yealink', ownerExtension: '1002' }).expect(201);
    expect((await h.http.get(`/${other}.cfg`).set('User-Agent', ua).expect(200)).text).to.include('s3cret-bob');
  });

  it('a change whose transaction rolls back leaves nothing behind in the caches', async () => {
    const before = (await fetchCfg()).text;
    const { stores, changes } = h.ctx;
    expect(() =>
      stores.tx(() => {
        changes.changed([MAC as never], 'test');
        stores.devices.head(MAC); // read inside the transaction: must not be cached
        throw new Error('abort');
      }),
    ).to.throw('abort');
    expect(stores.devices.head(MAC)?.configVersion).to.equal(stores.devices.get(MAC)?.configVersion);
    await api('patch', `users/1001`, { sipPassword: 'n3w-secret' }).expect(200);
    const after = (await fetchCfg()).text;
    expect(after).to.not.equal(before);
    expect(after).to.include('n3w-secret');
  });

  it('switching download auth to enforce applies to the next request', async () => {
    await fetchCfg().expect(200);
    h.clock.advance(2 * 3_600_000); // past the new-device grace period
    await api('put', `devices/${MAC}/download-auth`, { mode: 'enforce' }).expect(200);
    await fetchCfg().expect(401);
  });

  describe('an answer given again to an identical request (answer-memo.ts) is given to no other', () => {
    it('a User-Agent naming another MAC is refused, right after the phone itself was served the file twice', async () => {
      await fetchCfg().expect(200);
      await fetchCfg().expect(200);
      const other = await h.http.get(`/${MAC}.cfg`).set('User-Agent', 'Yealink SIP-T46U 108.86.0.90 00:15:65:00:00:01').expect(403);
      expect(other.text).to.not.include('s3cret-alice');
      expect((await fetchCfg().expect(200)).text).to.include('s3cret-alice');
    });

    it('an address outside the device allowlist is refused, right after one inside was served the file twice', async () => {
      const p = createHarness({ config: { http: { trustProxy: true } } });
      try {
        await p.http.post('/api/v1/users').set('Authorization', p.auth).send({ extension: '1001', displayName: 'Alice', sipPassword: 's3cret-alice' }).expect(201);
        await p.http.post('/api/v1/devices').set('Authorization', p.auth).send({ mac: MAC, vendor: 'yealink', model: 'T46U', ownerExtension: '1001' }).expect(201);
        await p.http.put(`/api/v1/devices/${MAC}/download-auth`).set('Authorization', p.auth).send({ allowlist: ['192.0.2.0/24'] }).expect(200);
        const from = (ip: string) => p.http.get(`/${MAC}.cfg`).set('User-Agent', UA).set('X-Forwarded-For', ip);
        await from('192.0.2.5').expect(200);
        await from('192.0.2.5').expect(200);
        const outside = await from('198.51.100.7').expect(403);
        expect(outside.text).to.not.include('s3cret-alice');
      } finally {
        p.destroy();
      }
    });

    it('a HEAD after GETs gets headers only, and a GET with the ETag gets a 304', async () => {
      const first = await fetchCfg().expect(200);
      await fetchCfg().expect(200);
      const head = await h.http.head(`/${MAC}.cfg`).set('User-Agent', UA).expect(200);
      expect(head.text ?? '').to.equal('');
      expect(head.headers.etag).to.equal(first.headers.etag);
      await fetchCfg().set('If-None-Match', first.headers.etag!).expect(304);
      await fetchCfg().set('If-None-Match', first.headers.etag!).expect(304);
      expect((await fetchCfg().expect(200)).text).to.equal(first.text);
    });
  });
});
