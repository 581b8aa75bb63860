/**
 * Stored renders: a fresh process serves a device's first fetch from the render stored by an
 * earlier one, and never a stale one — whatever changed, in the same process or across a restart.
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHarness, type Harness } from '../helpers/harness.js';

const MAC = '001565aabbcc';
const UA = 'Yealink SIP-T46U 108.86.0.90 00:15:65:aa:bb:cc';
const BASE = { provisioning: { baseUrl: 'http://prov.test:8080/' } };

describe('stored renders', () => {
  let h: Harness;
  const fetchCfg = (x: Harness = h) => x.http.get(`/${MAC}.cfg`).set('User-Agent', UA).expect(200);
  const api = (method: 'post' | 'patch' | 'put' | 'delete', path: string, body?: object | string, x: Harness = h) => {
    const req = x.http[method](`/api/v1/${path}`).set('Authorization', x.auth);
    return typeof body === 'string' ? req.set('Content-Type', 'text/plain').send(body) : req.send(body);
  };
  /** What a render of the device gives now, without any cache or stored render. */
  const freshRender = (x: Harness = h) => {
    const device = x.ctx.stores.devices.get(MAC)!;
    return x.ctx.renderer.renderUncached(device, x.ctx.catalog.resolve('yealink', 'device', device.model)!);
  };
  /** Close this process (buffered renders are written) and open a new one over the same database. */
  const restart = (opts: { config?: Record<string, unknown>; templateDir?: string | null } = {}) => {
    h.close();
    h = createHarness({ dir: h.dir, config: opts.config ?? BASE, templateDir: opts.templateDir ?? null });
    return h;
  };
  /** Fetch after a change: what a fresh render gives, in this process and in the next one. */
  const expectCurrent = async (includes: string[], excludes: string[] = []) => {
    for (const round of ['same process', 'after restart'] as const) {
      if (round === 'after restart') restart();
      const text = (await fetchCfg()).text;
      expect(text, round).to.equal(freshRender());
      for (const s of includes) expect(text, round).to.include(s);
      for (const s of excludes) expect(text, round).to.not.include(s);
    }
  };
  /** The device's file is rendered and its render written to the database. */
  const storeNow = async () => {
    await fetchCfg();
    h.ctx.storedRenders.flush();
    expect(h.ctx.stores.renderedFiles.count()).to.be.greaterThan(0);
  };

  beforeEach(async () => {
    h = createHarness({ config: BASE });
    await api('post', 'locations', { name: 'HQ 3rd floor', emergencyNumbers: ['911'] }).expect(201);
    await api('post', 'users', { extension: '1001', displayName: 'Alice', sipPassword: 's3cret-alice', pin: '482913' }).expect(201);
    await api('post', 'users', { extension: '1002', displayName: 'Bob', sipPassword: 's3cret-bob', pin: '739261' }).expect(201);
    await api('post', 'devices', { mac: MAC, vendor: 'yealink', model: 'T46U', ownerExtension: '1001', hotdeskEnabled: true, locationId: 1 }).expect(201);
  });
  afterEach(() => h.destroy());

  it('a fresh process serves the stored render without rendering: same bytes, same ETag', async () => {
    const first = await fetchCfg();
    expect(h.ctx.renderer.stats.misses).to.equal(1);
    restart();
    const again = await fetchCfg();
    expect(again.text).to.equal(first.text);
    expect(again.headers.etag).to.equal(first.headers.etag);
    expect(h.ctx.renderer.stats).to.include({ misses: 0, stored: 1 });
    // Then from memory; a conditional fetch is a 304.
    await h.http.get(`/${MAC}.cfg`).set('User-Agent', UA).set('If-None-Match', first.headers.etag!).expect(304);
    expect(h.ctx.renderer.stats).to.include({ misses: 0, stored: 1, hits: 1 });
  });

  it('the fetch record of a stored render carries its version and line', async () => {
    await fetchCfg();
    restart();
    await fetchCfg();
    h.ctx.recorder.flush();
    const d = (await api('get' as never, `devices/${MAC}`)).body as Record<string, unknown>;
    expect(JSON.stringify(d)).to.include('1001');
    expect(h.ctx.stores.devices.get(MAC)).to.include({ fetchedVersion: h.ctx.stores.devices.get(MAC)!.configVersion, fetchedLineUser: '1001' });
  });

  it('a SIP password change is served; a PIN change reuses the stored render', async () => {
    await storeNow();
    await api('patch', 'users/1001', { pin: '915372' }).expect(200);
    restart();
    await fetchCfg();
    expect(h.ctx.renderer.stats).to.include({ misses: 0, stored: 1 });
    await api('patch', 'users/1001', { sipPassword: 'n3w-alice' }).expect(200);
    await expectCurrent(['n3w-alice'], ['s3cret-alice']);
  });

  it('a guest login and logout are served', async () => {
    await storeNow();
    await api('post', `devices/${MAC}/login`, { extension: '1002', pin: '739261' }).expect(200);
    await expectCurrent(['s3cret-bob'], ['s3cret-alice']);
    await storeNow();
    await api('post', `devices/${MAC}/logout`).expect(200);
    await expectCurrent(['s3cret-alice'], ['s3cret-bob']);
  });

  it('a location change is served', async () => {
    await storeNow();
    await api('patch', 'locations/1', { name: 'Annex ground floor', emergencyNumbers: ['112'] }).expect(200);
    await expectCurrent(['Annex ground floor'], ['HQ 3rd floor']);
  });

  it('a download-auth rotation is served', async () => {
    await api('put', `devices/${MAC}/download-auth`, { mode: 'provision' }).expect(200);
    await storeNow();
    const creds = () => h.ctx.stores.downloadAuth.get(MAC)!.password;
    const old = creds();
    await api('post', `devices/${MAC}/download-auth/rotate`).expect(200);
    expect(creds()).to.not.equal(old);
    await expectCurrent([creds()], [old]);
  });

  it('a template override is served, and a rollback to the same text serves that text', async () => {
    await storeNow();
    const shipped = (await h.http.get('/api/v1/templates/yealink/device').set('Authorization', h.auth).expect(200)).text;
    await api('put', 'templates/yealink/device', `${shipped}\nstatic.custom = hello\n`).expect(200);
    await expectCurrent(['static.custom = hello']);
    await storeNow();
    await api('delete', 'templates/yealink/device').expect(200);
    await expectCurrent([], ['static.custom = hello']);
  });

  it('a device deleted and added again with the same MAC never gets the old render', async () => {
    await fetchCfg(); // rendered, its write still buffered
    await api('delete', `devices/${MAC}`).expect(204);
    await api('post', 'devices', { mac: MAC, vendor: 'yealink', model: 'T46U', ownerExtension: '1002' }).expect(201);
    expect(h.ctx.stores.devices.get(MAC)!.configVersion).to.equal(1);
    await expectCurrent(['s3cret-bob'], ['s3cret-alice']);
    // And with the old render already written before the delete.
    await storeNow();
    await api('delete', `devices/${MAC}`).expect(204);
    expect(h.ctx.stores.renderedFiles.count()).to.equal(0);
    await api('post', 'devices', { mac: MAC, vendor: 'yealink', model: 'T46U' }).expect(201);
    await expectCurrent([], ['s3cret-bob', 's3cret-alice']);
  });

  describe('across a restart with other settings or template files', () => {
    it('a config key a render reads (baseUrl, PBX, time zone, download-auth default) re-renders', async () => {
      const changes: Array<[Record<string, unknown>, string]> = [
        [{ provisioning: { baseUrl: 'http://other.test:9090/' } }, 'other.test:9090'],
        [{ ...BASE, pbx: { host: 'pbx2.test' } }, 'pbx2.test'],
        [{ provisioning: { ...BASE.provisioning, timeZone: 'Asia/Kolkata' } }, '+5:30'],
        [{ ...BASE, security: { downloadAuth: { defaultMode: 'provision' } } }, 'static.auto_provision.server.username'],
      ];
      for (const [config, expected] of changes) {
        await storeNow();
        restart({ config });
        const text = (await fetchCfg()).text;
        expect(text, JSON.stringify(config)).to.include(expected).and.equal(freshRender());
        expect(h.ctx.renderer.stats.misses, JSON.stringify(config)).to.equal(1);
      }
    });

    it('a config key no render reads keeps the stored render', async () => {
      await storeNow();
      restart({ config: { ...BASE, log: { level: 'warn' }, hotdesk: { pinMaxAttempts: 9 } } });
      await fetchCfg();
      expect(h.ctx.renderer.stats).to.include({ misses: 0, stored: 1 });
    });

    it('an edited file under templates/ re-renders', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'deskprov-tpl-'));
      try {
        mkdirSync(join(dir, 'yealink'));
        const shipped = h.ctx.catalog.resolve('yealink', 'device', 'T46U')!.source;
        const write = (v: string) => writeFileSync(join(dir, 'yealink', 'device.hbs'), `${shipped}\nstatic.site = ${v}\n`);
        write('one');
        restart({ templateDir: dir });
        expect((await fetchCfg()).text).to.include('static.site = one');
        write('two');
        restart({ templateDir: dir });
        expect((await fetchCfg()).text).to.include('static.site = two').and.not.include('static.site = one');
        restart({ templateDir: dir });
        await fetchCfg();
        expect(h.ctx.renderer.stats).to.include({ misses: 0, stored: 1 });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
