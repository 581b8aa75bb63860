import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { parseStringPromise } from 'xml2js';
import { createHarness, type Harness } from '../helpers/harness.js';

const UA = {
  yealink: 'Yealink SIP-T46U 108.86.0.90 00:15:65:aa:bb:cc',
  polycom: 'FileTransport PolycomVVX-VVX_450-UA/6.4.3.5017 (SN:0004f2aabbcc) Type/Application',
  polycomNoSn: 'FileTransport PolycomVVX-VVX_450-UA/6.4.3.5017 Type/Application',
  sangomaP: 'Sangoma P330 4_27_8 000FD3AABBCC',
};

async function seed(h: Harness) {
  const ok = (r: { status: number; body: unknown }, status = 201) => expect(r.status, JSON.stringify(r.body)).to.equal(status);
  ok(await h.http.post('/api/v1/locations').set('Authorization', h.auth).send({ name: 'HQ 3rd floor', address: '1 Main St', emergencyNumbers: ['911', '933'], callbackNumber: '5551230000' }));
  ok(await h.http.post('/api/v1/users').set('Authorization', h.auth).send({ extension: '1001', displayName: 'Alice <Ops> & "Co"', sipPassword: 's3cret-alice', pin: '2468' }));
  for (const [mac, vendor, model] of [
    ['00:15:65:AA:BB:CC', 'yealink', 'T46U'],
    ['0004F2AABBCC', 'polycom', 'VVX450'],
    ['00-0F-D3-AA-BB-CC', 'sangoma-p', 'P330'],
    ['000fd3aabbdd', 'sangoma-s', 'S505'],
  ]) {
    ok(await h.http.post('/api/v1/devices').set('Authorization', h.auth).send({ mac, vendor, model, ownerExtension: '1001', locationId: 1, label: 'Desk 12' }));
  }
  ok(await h.http.post('/api/v1/devices').set('Authorization', h.auth).send({ mac: '001565000001', vendor: 'yealink', model: 'T46U', locationId: 1, label: 'Lobby', hotdeskEnabled: true }));
}

describe('provisioning: phones boot from deskprov', () => {
  let h: Harness;
  beforeEach(async () => {
    h = createHarness();
    await seed(h);
  });
  afterEach(() => h.destroy());

  it('Yealink boot sequence: .boot 404s, common file, then its own config with the owner line', async () => {
    const get = (p: string) => h.http.get(p).set('User-Agent', UA.yealink);
    expect((await get('/001565aabbcc.boot')).status).to.equal(404);
    expect((await get('/y000000000000.boot')).status).to.equal(404);
    const common = await get('/y000000000108.cfg');
    expect(common.status).to.equal(200);
    expect(common.text.split('\n')[0]).to.equal('#!version:1.0.0.1');
    expect(common.text).to.not.include('s3cret-alice');
    const cfg = await get('/001565aabbcc.cfg');
    expect(cfg.status).to.equal(200);
    expect(cfg.headers['content-type']).to.match(/^text\/plain/);
    expect(cfg.headers['cache-control']).to.equal('no-store');
    expect(cfg.headers.etag).to.be.a('string');
    expect(cfg.text.split('\n')[0]).to.equal('#!version:1.0.0.1');
    expect(cfg.text).to.match(/^account\.1\.password = s3cret-alice$/m);
    expect(cfg.text).to.match(/^account\.1\.user_name = 1001$/m);
    expect(cfg.text).to.match(/^account\.1\.sip_server\.1\.address = pbx\.test$/m);
    expect(cfg.text).to.include('911');
    expect(cfg.text).to.include('http://prov.test:8080/');
    // upper-case MAC in the file name is the same device
    expect((await get('/001565AABBCC.cfg')).text).to.equal(cfg.text);
  });

  it('answers If-None-Match with 304 and records every fetch on the device', async () => {
    const first = await h.http.get('/001565aabbcc.cfg').set('User-Agent', UA.yealink);
    const again = await h.http.get('/001565aabbcc.cfg').set('User-Agent', UA.yealink).set('If-None-Match', first.headers.etag as string);
    expect(again.status).to.equal(304);
    const dev = await h.http.get('/api/v1/devices/001565aabbcc').set('Authorization', h.auth);
    expect(dev.body.lastFetch).to.include({ file: '001565aabbcc.cfg', userAgent: UA.yealink, model: 'T46U', firmware: '108.86.0.90' });
    expect(dev.body.lastFetch.ip).to.match(/127\.0\.0\.1|::1/);
    expect(dev.body.fetches).to.have.length(2);
    expect(dev.body.fetches[0].configVersion).to.equal(dev.body.sync.configVersion);
  });

  it('Polycom boot sequence: master lists files, each is served, uploads stored and served back', async () => {
    const get = (p: string) => h.http.get(p).set('User-Agent', UA.polycom);
    const master = await get('/0004F2AABBCC.cfg');
    expect(master.status).to.equal(200);
    const xml = await parseStringPromise(master.text);
    const files = String(xml.APPLICATION.$.CONFIG_FILES).split(',').map((s) => s.trim()).filter(Boolean);
    expect(files.length).to.be.greaterThan(0);
    for (const f of files) {
      const name = f.replace('[PHONE_MAC_ADDRESS]', '0004f2aabbcc');
      const r = await get(`/${name}`);
      expect(r.status, name).to.equal(200);
      await parseStringPromise(r.text); // well-formed
    }
    const all = (await Promise.all(files.map((f) => get(`/${f.replace('[PHONE_MAC_ADDRESS]', '0004f2aabbcc')}`)))).map((r) => r.text).join('\n');
    expect(all).to.include('s3cret-alice');
    expect(all).to.include('Alice &lt;Ops&gt; &amp; &quot;Co&quot;');
    expect((await get('/sip.ld')).status).to.equal(404);
    expect((await get('/0004f2aabbcc-phone.cfg')).status).to.equal(404);
    expect((await get('/0004f2aabbcc-directory.xml')).status).to.equal(404);
    const dir = '<directory><item_list><item><fn>Bob</fn><ct>1002</ct></item></item_list></directory>';
    expect((await h.http.put('/0004f2aabbcc-directory.xml').set('User-Agent', UA.polycom).type('text/xml').send(dir)).status).to.be.within(200, 204);
    const back = await get('/0004f2aabbcc-directory.xml');
    expect(back.text).to.equal(dir);
    // Anyone's bytes: a browser on this origin (the console's) saves them and never runs them.
    expect(back.headers).to.include({ 'content-disposition': 'attachment', 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'none'; sandbox" });
    const config = await get('/0004f2aabbcc-deskprov.cfg');
    expect(config.headers).to.include({ 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'none'; sandbox" });
    expect(config.headers['content-disposition']).to.equal(undefined);
    await h.http.put('/0004f2aabbcc-app.log').set('User-Agent', UA.polycom).type('text/plain').send('line one\n');
    await h.http.put('/0004f2aabbcc-app.log').set('User-Agent', UA.polycom).type('text/plain').send('line two\n');
    expect(h.ctx.stores.files.get('0004f2aabbcc', 'app.log')?.content.toString()).to.equal('line one\nline two\n');
  });

  it('Polycom without a known MAC file falls back to the default master', async () => {
    const r = await h.http.get('/000000000000.cfg').set('User-Agent', UA.polycomNoSn);
    expect(r.status).to.equal(200);
    const xml = await parseStringPromise(r.text);
    expect(xml.APPLICATION.$.CONFIG_FILES).to.include('[PHONE_MAC_ADDRESS]');
    expect(r.text).to.not.include('s3cret');
  });

  it('Sangoma P and S series get their XML with the owner account', async () => {
    const p = await h.http.get('/000fd3aabbcc.cfg').set('User-Agent', UA.sangomaP);
    expect(p.status).to.equal(200);
    const px = await parseStringPromise(p.text);
    expect(Object.keys(px)).to.deep.equal(['config']);
    expect(p.text).to.include('s3cret-alice');
    for (const name of ['/cfg000fd3aabbdd.xml', '/000fd3aabbdd.xml']) {
      const s = await h.http.get(name);
      expect(s.status, name).to.equal(200);
      const sx = await parseStringPromise(s.text);
      expect(Object.keys(sx)).to.deep.equal(['hl_provision']);
      expect(s.text).to.include('s3cret-alice');
    }
  });

  it('an unassigned phone gets no credentials at all but keeps emergency numbers and its location', async () => {
    const r = await h.http.get('/001565000001.cfg').set('User-Agent', 'Yealink SIP-T46U 108.86.0.90 00:15:65:00:00:01');
    expect(r.status).to.equal(200);
    expect(r.text).to.not.include('s3cret');
    expect(r.text).to.not.match(/^account\.1\.password = (?!%NULL%)\S/m);
    expect(r.text).to.match(/^account\.1\.enable = 0$/m);
    expect(r.text).to.include('911');
    expect(r.text).to.include('933');
    expect(r.text).to.include('HQ 3rd floor');
    expect(r.text).to.include('http://prov.test:8080/phone/yealink/001565000001/login');
  });

  describe('hostile requests', () => {
    it('unknown MAC: 404 and never anyone\'s config', async () => {
      const r = await h.http.get('/001565999999.cfg').set('User-Agent', 'Yealink SIP-T46U 108.86.0.90 00:15:65:99:99:99');
      expect(r.status).to.equal(404);
      expect(r.text).to.not.include('s3cret');
    });

    it('MAC in the path differs from the User-Agent MAC: 403 and a security log line', async () => {
      const r = await h.http.get('/001565aabbcc.cfg').set('User-Agent', 'Yealink SIP-T46U 108.86.0.90 00:15:65:00:00:01');
      expect(r.status).to.equal(403);
      expect(r.text).to.not.include('s3cret');
      expect(h.logs.some((l) => l.event === 'security' && l.kind === 'mac-mismatch')).to.equal(true);
    });

    for (const path of ['/../etc/passwd', '/..%2f..%2fetc%2fpasswd', '/%2e%2e/package.json', '/001565aabbcc.cfg%00', '/templates/yealink/device.hbs', '/package.json', `/${'a'.repeat(300)}.cfg`, '/y0000000000.cfg', '/001565aabbcc.cfg/..']) {
      it(`refuses ${path.slice(0, 60)} without touching the disk`, async () => {
        const r = await h.http.get(path);
        expect(r.status).to.be.within(400, 499);
        expect(r.text).to.not.include('"name"');
        expect(r.text).to.not.include('root:');
      });
    }

    it('an upload over the limit is 413 and nothing is stored', async () => {
      const big = 'x'.repeat(1024 * 1024 + 1);
      const r = await h.http.put('/0004f2aabbcc-phone.cfg').set('User-Agent', UA.polycom).type('text/plain').send(big);
      expect(r.status).to.equal(413);
      expect(h.ctx.stores.files.get('0004f2aabbcc', 'phone.cfg')).to.equal(null);
    });

    it('a display name with CR/LF is refused at the API, so nothing can add a config line', async () => {
      const r = await h.http.patch('/api/v1/users/1001').set('Authorization', h.auth).send({ displayName: 'Eve\naccount.2.enable = 1' });
      expect(r.status).to.equal(400);
      expect(r.body.error.message).to.include('displayName');
      const label = await h.http.patch('/api/v1/devices/001565aabbcc').set('Authorization', h.auth).send({ label: 'x\r\ny' });
      expect(label.status).to.equal(400);
      const cfg = await h.http.get('/001565aabbcc.cfg').set('User-Agent', UA.yealink);
      expect(cfg.text).to.not.include('account.2.enable = 1');
    });
  });

  it('data survives closing and reopening the database file', async () => {
    const before = (await h.http.get('/001565aabbcc.cfg').set('User-Agent', UA.yealink)).text;
    h.close();
    const again = createHarness({ dir: h.dir });
    try {
      const after = await again.http.get('/001565aabbcc.cfg').set('User-Agent', UA.yealink);
      expect(after.status).to.equal(200);
      expect(after.text).to.equal(before);
      const dev = await again.http.get('/api/v1/devices/001565aabbcc').set('Authorization', again.auth);
      expect(dev.body.lastFetch.file).to.equal('001565aabbcc.cfg');
    } finally {
      again.close();
    }
  });

  it('the UA fixtures boot: each known-MAC Yealink/Polycom/Sangoma UA fetches its file', async () => {
    const lines = readFileSync(new URL('../fixtures/user-agents.jsonl', import.meta.url), 'utf8').trim().split('\n');
    let served = 0;
    for (const line of lines) {
      const f = JSON.parse(line) as { ua: string; vendor: string; mac: string | null };
      if (!f.mac) continue;
      await h.http.post('/api/v1/devices').set('Authorization', h.auth).send({ mac: f.mac, vendor: f.vendor, ownerExtension: '1001' }).expect(201);
      const name = f.vendor === 'yealink' || f.vendor === 'sangoma-p' ? `${f.mac}.cfg` : f.vendor === 'polycom' ? `${f.mac}.cfg` : `cfg${f.mac}.xml`;
      const r = await h.http.get(`/${name}`).set('User-Agent', f.ua);
      expect(r.status, f.ua).to.equal(200);
      served++;
    }
    expect(served).to.be.greaterThan(8);
  });
});

describe('start-up: templates compiled before the first phone', () => {
  let h: Harness;
  /** A config of every vendor, and the shared files phones fetch around it. */
  const boot = async (x: Harness) => {
    const files: Array<[string, string]> = [
      ['/001565aabbcc.cfg', UA.yealink], ['/y000000000108.cfg', UA.yealink],
      ['/0004f2aabbcc.cfg', UA.polycom], ['/000000000000.cfg', UA.polycom],
      ['/000fd3aabbcc.cfg', UA.sangomaP], ['/cfg000fd3aabbdd.xml', 'Sangoma S505 V3.0.4.51 000fd3aabbdd'],
    ];
    const statuses = [];
    for (const [path, ua] of files) statuses.push((await x.http.get(path).set('User-Agent', ua)).status);
    return statuses;
  };
  /** The same database in a new process: nothing compiled yet. */
  const restart = () => {
    h.close();
    h = createHarness({ dir: h.dir });
  };
  beforeEach(async () => {
    h = createHarness();
    await seed(h);
  });
  afterEach(() => h.destroy());

  it('Renderer.prepare() compiles every template, so the first configs of every vendor compile nothing', async () => {
    restart();
    expect(h.ctx.catalog.compilations).to.equal(0);
    const compiled = h.ctx.renderer.prepare();
    expect(compiled).to.be.greaterThan(4);
    expect(h.ctx.catalog.compilations).to.equal(compiled);
    expect(await boot(h)).to.not.include(500);
    expect((await boot(h)).filter((s) => s === 200).length, 'files served').to.be.at.least(5);
    expect(h.ctx.catalog.compilations, 'compilations after the first phones').to.equal(compiled);
  });

  it('without it, the first phones compile their templates themselves (what prepare() saves them)', async () => {
    restart();
    await boot(h);
    expect(h.ctx.catalog.compilations).to.be.greaterThan(0);
  });
});
