/**
 * The start-up warm-up (server/http/warm-up.ts): a process answers phone requests of its own
 * before it takes phones, over real loopback connections, and keeps nothing of them.
 */
import { expect } from 'chai';
import { warmUp, warmUpDeps } from '../../server/http/warm-up.js';
import { createHarness, type Harness } from '../helpers/harness.js';

const YEALINK = { mac: '001565aabbcc', ua: 'Yealink SIP-T46U 108.86.0.90 00:15:65:aa:bb:cc' };
const POLYCOM = '0004f2aabbcc';
const SANGOMA = '000fd3aabbdd';

describe('start-up warm-up of the phone path', function () {
  this.timeout(30_000);
  let h: Harness;

  beforeEach(async () => {
    h = createHarness();
    const ok = (r: { status: number; body: unknown }) => expect(r.status, JSON.stringify(r.body)).to.equal(201);
    ok(await h.http.post('/api/v1/users').set('Authorization', h.auth).send({ extension: '1001', displayName: 'Alice', sipPassword: 's3cret-alice', pin: '2468' }));
    ok(await h.http.post('/api/v1/devices').set('Authorization', h.auth).send({ mac: YEALINK.mac, vendor: 'yealink', model: 'T46U', ownerExtension: '1001' }));
    ok(await h.http.post('/api/v1/devices').set('Authorization', h.auth).send({ mac: POLYCOM, vendor: 'polycom', model: 'VVX450' }));
    ok(await h.http.post('/api/v1/devices').set('Authorization', h.auth).send({ mac: SANGOMA, vendor: 'sangoma-s', model: 'S505' }));
  });

  afterEach(() => h.destroy());

  const metric = (text: string, name: string) => text.split('\n').filter((l) => l.startsWith(name));

  it("serves every device's files, 200s and 304s, then keeps nothing: no render cached, no fetch recorded, nothing counted", async () => {
    const before = h.ctx.renderer.cacheStats();
    const r = await warmUp(warmUpDeps(h.ctx), { requests: 400, renders: 150, connections: 4 });
    expect(r.requests).to.equal(550);
    // The rendering phase renders every one of its requests (device files only, here).
    expect(r.rendered).to.equal(150);
    // The devices' own files, answered as phones get them: a 404 would warm nothing of use.
    expect(Object.keys(r.statuses).sort()).to.deep.equal(['200', '304']);
    expect(r.statuses['200']! + r.statuses['304']!).to.equal(550);

    const after = h.ctx.renderer.cacheStats();
    expect(after.entries, 'renders left in the cache').to.equal(0);
    expect({ hits: after.hits, misses: after.misses, stored: after.stored }).to.deep.equal({ hits: before.hits, misses: before.misses, stored: before.stored });
    for (const mac of [YEALINK.mac, POLYCOM, SANGOMA]) {
      const d = await h.http.get(`/api/v1/devices/${mac}`).set('Authorization', h.auth);
      expect(d.body.lastFetch, `last fetch of ${mac}`).to.equal(null);
    }
    const m = (await h.http.get('/metrics').set('Authorization', h.auth)).text;
    expect(metric(m, 'deskprov_phone_requests_total{'), 'phone requests counted').to.deep.equal([]);
    expect(metric(m, 'deskprov_phone_request_duration_seconds_count'), 'phone request durations').to.deep.equal(['deskprov_phone_request_duration_seconds_count 0']);

    // A phone's first fetch afterwards finds nothing of its device in memory, and is recorded.
    const first = await h.http.get(`/${YEALINK.mac}.cfg`).set('User-Agent', YEALINK.ua);
    expect(first.status).to.equal(200);
    expect(first.text).to.include('account.1.user_name = 1001');
    expect(h.ctx.renderer.cacheStats().hits, 'served from the render cache').to.equal(before.hits);
    h.ctx.recorder.flush();
    const d = await h.http.get(`/api/v1/devices/${YEALINK.mac}`).set('Authorization', h.auth);
    expect(d.body.lastFetch?.file).to.equal(`${YEALINK.mac}.cfg`);
  });

  it('does nothing on a database without devices', async () => {
    const empty = createHarness();
    try {
      expect(await warmUp(warmUpDeps(empty.ctx))).to.deep.equal({ requests: 0, rendered: 0, statuses: {}, ms: 0 });
    } finally {
      empty.destroy();
    }
  });
});
