/**
 * The pre-renderer: a start-up catch-up pass renders what is missing or stale, changed devices
 * are rendered after the change commits, and the work yields to the event loop between slices.
 */
import { expect } from 'chai';
import { createHarness, type Harness } from '../helpers/harness.js';
import { PreRenderer } from '../../server/services/prerender.js';
import { Renderer } from '../../server/services/renderer.js';

const BASE = { provisioning: { baseUrl: 'http://prov.test:8080/' } };
const N = 60;
const macOf = (i: number) => `001565${i.toString(16).padStart(6, '0')}`;
const colons = (mac: string) => mac.replace(/(..)(?!$)/g, '$1:');
const UA = (mac: string) => `Yealink SIP-T46U 108.86.0.90 ${colons(mac)}`;

describe('pre-renderer', () => {
  let h: Harness;
  const api = (method: 'post' | 'patch' | 'put', path: string, body?: object | string) => {
    const req = h.http[method](`/api/v1/${path}`).set('Authorization', h.auth);
    return typeof body === 'string' ? req.set('Content-Type', 'text/plain').send(body) : req.send(body);
  };
  const fetchCfg = (mac: string) => h.http.get(`/${mac}.cfg`).set('User-Agent', UA(mac)).expect(200);
  const restart = () => {
    h.close();
    h = createHarness({ dir: h.dir, config: BASE });
  };
  /** Yealink devices (one file each) and a Polycom (two: master and device), some owned. */
  const seed = () => {
    const { stores } = h.ctx;
    stores.tx(() => {
      for (let i = 1; i <= N; i++) {
        const ext = String(2000 + i);
        stores.users.insert({ extension: ext, displayName: `User ${ext}`, sipUsername: ext, sipPassword: `pw-${ext}`, pinHash: null, hotdeskAllowed: true, email: null }, h.clock.now());
        stores.devices.insert({ mac: macOf(i) as never, vendor: 'yealink', model: 'T46U', label: null, ownerExtension: i % 2 ? ext : null, hotdeskEnabled: true, locationId: null, sipContact: null, sessionTimeout: null }, h.clock.now());
      }
      stores.devices.insert({ mac: '0004f2000001' as never, vendor: 'polycom', model: 'VVX450', label: null, ownerExtension: null, hotdeskEnabled: true, locationId: null, sipContact: null, sessionTimeout: null }, h.clock.now());
    });
  };
  const storedCount = () => h.ctx.stores.renderedFiles.count();

  beforeEach(() => {
    h = createHarness({ config: BASE });
    seed();
  });
  afterEach(() => h.destroy());

  it('the start-up catch-up renders every missing file, then fetches render nothing', async () => {
    expect(storedCount()).to.equal(0);
    h.ctx.prerender.start();
    expect(h.ctx.prerender.pending()).to.equal(N + 1);
    await h.ctx.prerender.idle();
    h.ctx.storedRenders.flush();
    expect(storedCount()).to.equal(N + 2); // the Polycom has two device files
    expect(h.ctx.prerender.pending()).to.equal(0);
    restart();
    for (const i of [1, 2, N]) await fetchCfg(macOf(i));
    await h.http.get('/0004f2000001.cfg').set('User-Agent', 'PolycomVVX-VVX_450-UA/6.4.3.5018').expect(200);
    expect(h.ctx.renderer.stats).to.include({ misses: 0, stored: 4 });
    // Nothing stale: a second catch-up renders nothing.
    h.ctx.prerender.start();
    await h.ctx.prerender.idle();
    expect(h.ctx.renderer.stats.prerendered).to.equal(0);
  });

  it('renders only what is missing or stale', async () => {
    await fetchCfg(macOf(1));
    await fetchCfg(macOf(2));
    h.ctx.storedRenders.flush();
    h.ctx.stores.tx(() => h.ctx.changes.changed([macOf(2) as never], 'test', { notify: false }));
    restart();
    h.ctx.prerender.start();
    await h.ctx.prerender.idle();
    // Everything but device 1 (whose stored render is current).
    expect(h.ctx.renderer.stats.prerendered).to.equal(N - 1 + 2);
  });

  it('renders the devices a change touched, after it commits', async () => {
    h.ctx.prerender.start();
    await h.ctx.prerender.idle();
    const before = h.ctx.renderer.stats.prerendered;
    await api('patch', `users/${2001}`, { sipPassword: 'n3w-secret' }).expect(200);
    await h.ctx.prerender.idle();
    expect(h.ctx.renderer.stats.prerendered).to.equal(before + 1);
    h.ctx.storedRenders.flush();
    const row = h.ctx.stores.renderedFiles.get(macOf(1), 'device')!;
    expect(row.configVersion).to.equal(h.ctx.stores.devices.configVersion(macOf(1)));
    expect(row.body.toString()).to.include('n3w-secret');
    const text = (await fetchCfg(macOf(1))).text;
    expect(text).to.include('n3w-secret');
    expect(h.ctx.renderer.stats).to.include({ misses: 0, stored: 1 });
  });

  it('after a template save, devices whose bytes did not change are stamped again in the background', async () => {
    h.ctx.prerender.start();
    await h.ctx.prerender.idle();
    // A line only owned desks get: unowned desks keep their bytes (no resync), but not their stamp.
    const shipped = (await h.http.get('/api/v1/templates/yealink/device').set('Authorization', h.auth).expect(200)).text;
    await api('put', 'templates/yealink/device', `${shipped}{{#if line}}\nstatic.owned = yes\n{{/if}}\n`).expect(200);
    await h.ctx.prerender.idle();
    h.ctx.storedRenders.flush();
    restart();
    for (const i of [1, 2]) {
      const text = (await fetchCfg(macOf(i))).text;
      if (i % 2) expect(text).to.include('static.owned = yes');
      else expect(text).to.not.include('static.owned');
    }
    expect(h.ctx.renderer.stats).to.include({ misses: 0, stored: 2 });
  });

  it('yields between slices: requests are answered while a pass runs', async () => {
    const pre = new PreRenderer(
      { devices: h.ctx.stores.devices, rendered: h.ctx.stores.renderedFiles, renderer: h.ctx.renderer, stored: h.ctx.storedRenders, changes: h.ctx.changes, catalog: h.ctx.catalog, log: h.ctx.log },
      { sliceMs: 1, scanPage: 8, bigPass: 10, progressEveryMs: 0 },
    );
    pre.start();
    const res = await h.http.get('/api/v1/devices?limit=1').set('Authorization', h.auth).expect(200);
    expect(res.status).to.equal(200);
    const midway = pre.pending();
    expect(midway).to.be.greaterThan(0).and.lessThan(N + 1);
    await pre.idle();
    expect(pre.stats.slices).to.be.greaterThan(2);
    expect(pre.stats.devices).to.equal(N + 1);
    // Big passes log their progress: done/total.
    const lines = h.logs.filter((l) => l.event === 'prerender');
    expect(lines.some((l) => l.msg === 'pre-render: catch-up in progress' && typeof l.done === 'number' && l.total === N + 1)).to.equal(true);
    expect(lines.some((l) => l.msg === 'pre-render: catch-up done' && l.rendered === N + 1)).to.equal(true);
    pre.stop();
  });

  it('progress is exposed as deskprov_prerender_pending and in /healthz', async () => {
    h.ctx.prerender.start();
    const health = (await h.http.get('/healthz').expect(200)).body as { prerender: { running: boolean; pending: number } };
    expect(health.prerender.running).to.equal(true);
    await h.ctx.prerender.idle();
    expect(((await h.http.get('/healthz').expect(200)).body as typeof health).prerender.pending).to.equal(0);
    const metrics = (await h.http.get('/metrics').expect(200)).text;
    expect(metrics).to.match(/^deskprov_prerender_pending 0$/m);
  });

  it('is off with provisioning.prerender false (renders made on demand are still stored)', async () => {
    h.close();
    h = createHarness({ dir: h.dir, config: { provisioning: { ...BASE.provisioning, prerender: false } } });
    h.ctx.prerender.start();
    expect(h.ctx.prerender.running).to.equal(false);
    expect(h.ctx.prerender.pending()).to.equal(0);
    await fetchCfg(macOf(3));
    h.ctx.storedRenders.flush();
    expect(storedCount()).to.equal(1);
  });

  it('every vendor has device templates to pre-render', () => {
    for (const v of ['yealink', 'polycom', 'sangoma-p', 'sangoma-s']) expect(Renderer.deviceTemplates(v)).to.not.be.empty;
  });
});
