import { expect } from 'chai';
import { createHarness, type Harness } from '../helpers/harness.js';
import { TemplateImpact } from '../../server/services/template-impact.js';
import { DIFF_BUDGET_MS, TemplatePreview } from '../../server/services/template-preview.js';

const YEALINK_UA = 'Yealink SIP-T46U 108.86.0.90 00:15:65:aa:bb:cc';
const POLYCOM_UA = 'FileTransport PolycomVVX-VVX_450-UA/6.4.3.5017 (SN:0004f2aabbcc) Type/Application';

/** A small Yealink template that renders in every state. */
const SMALL = (marker: string) =>
  ['#!version:1.0.0.1', `# ${marker}`, '{{#if line}}', 'account.1.display_name = {{line.displayName}}', '{{/if}}', ''].join('\n');

async function seed(h: Harness) {
  const ok = (r: { status: number; body: unknown }) => expect(r.status, JSON.stringify(r.body)).to.equal(201);
  ok(await h.http.post('/api/v1/locations').set('Authorization', h.auth).send({ name: 'HQ', emergencyNumbers: ['911'] }));
  ok(await h.http.post('/api/v1/users').set('Authorization', h.auth).send({ extension: '1001', displayName: 'Alice', sipPassword: 's3cret-alice', pin: '2468' }));
  ok(await h.http.post('/api/v1/devices').set('Authorization', h.auth).send({ mac: '001565aabbcc', vendor: 'yealink', model: 'T46U', ownerExtension: '1001', locationId: 1, label: 'Desk 12' }));
  ok(await h.http.post('/api/v1/devices').set('Authorization', h.auth).send({ mac: '0004f2aabbcc', vendor: 'polycom', model: 'VVX450', ownerExtension: '1001', locationId: 1 }));
}

describe('templates: managed content', () => {
  let h: Harness;
  const yealinkCfg = () => h.http.get('/001565aabbcc.cfg').set('User-Agent', YEALINK_UA);
  const put = (path: string, body: string, comment?: string) => {
    const req = h.http.put(`/api/v1/templates/${path}`).set('Authorization', h.auth).set('Content-Type', 'text/plain');
    if (comment) req.set('X-Comment', comment);
    return req.send(body);
  };
  const history = async (path: string) => (await h.http.get(`/api/v1/templates/${path}/history`).set('Authorization', h.auth)).body.versions as Array<Record<string, unknown>>;

  beforeEach(async () => {
    h = createHarness();
    await seed(h);
  });
  afterEach(() => h.destroy());

  describe('a broken template never reaches a phone', () => {
    const refused: Array<[string, string, string, number, string | RegExp]> = [
      ['syntax error (mismatched block)', 'yealink/device', '#!version:1.0.0.1\n{{#if line}}\nfoo = 1\n{{/each}}\n', 2, /if doesn't match each/],
      ['syntax error (block never closed)', 'yealink/device', '#!version:1.0.0.1\n{{#if line}}\nfoo = 1\n', 4, /Expecting .*got 'EOF'/s],
      ['strict mode: missing variable', 'yealink/device', '#!version:1.0.0.1\n# ok\nfoo = {{device.nope}}\n', 3, /nope/],
      ['Yealink file without #!version first line', 'yealink/device', 'account.1.enable = 1\n', 1, /#!version/],
      ['Yealink line that is not key = value', 'yealink/device', '#!version:1.0.0.1\nthis is not a setting\n', 2, /key = value/],
    ];
    for (const [what, path, body, line, reason] of refused) {
      it(`refuses a ${what} with 400, line and reason, and keeps the old one`, async () => {
        const before = await yealinkCfg();
        expect(before.status).to.equal(200);
        const r = await put(path, body);
        expect(r.status, JSON.stringify(r.body)).to.equal(400);
        expect(r.body.error.code).to.equal('invalid_template');
        expect(r.body.error.details.line).to.equal(line);
        expect(r.body.error.details.reason).to.match(reason instanceof RegExp ? reason : new RegExp(reason));
        expect(r.body.error.details.state).to.be.a('string');
        expect((await yealinkCfg()).text).to.equal(before.text);
        expect(await history('yealink/device')).to.deep.equal([]);
      });
    }

    it('refuses a template that fails only for a guest, naming the state', async () => {
      const body = '#!version:1.0.0.1\n{{#if hotdesk.sessionEndsAt}}\nx = {{line.nickname}}\n{{/if}}\n';
      const r = await put('yealink/device', body);
      expect(r.status).to.equal(400);
      expect(r.body.error.details).to.include({ line: 3, state: 'guest' });
    });

    it('refuses XML that is not well-formed (Polycom) and the phone keeps its file', async () => {
      const get = () => h.http.get('/0004f2aabbcc-deskprov.cfg').set('User-Agent', POLYCOM_UA);
      const before = await get();
      expect(before.status).to.equal(200);
      const r = await put('polycom/device', '<?xml version="1.0"?>\n<polycomConfig>\n  <device a="1">\n</polycomConfig>\n');
      expect(r.status, JSON.stringify(r.body)).to.equal(400);
      expect(r.body.error.code).to.equal('invalid_template');
      expect(r.body.error.details.line).to.be.a('number');
      expect(r.body.error.details.reason).to.be.a('string').and.not.equal('');
      expect((await get()).text).to.equal(before.text);
    });

    it('404 for an unknown vendor or template, 400 for a bad name, 415 for JSON', async () => {
      expect((await put('acme/device', SMALL('x'))).status).to.equal(404);
      expect((await put('yealink/nosuch', SMALL('x'))).status).to.equal(404);
      expect((await put('yealink/device..x', SMALL('x'))).status).to.equal(400);
      expect((await put('yealink/common.T46U', SMALL('x'))).status).to.equal(400);
      const json = await h.http.put('/api/v1/templates/yealink/device').set('Authorization', h.auth).send({ body: 'x' });
      expect(json.status).to.equal(415);
      expect((await put('yealink/device', 'x'.repeat(300 * 1024))).status).to.equal(413);
      expect(await history('yealink/device')).to.deep.equal([]);
    });
  });

  it('saves, keeps every version, and rolls back to an earlier one', async () => {
    const original = (await yealinkCfg()).text;
    const v1 = await put('yealink/device', SMALL('first'), 'try one');
    expect(v1.status, JSON.stringify(v1.body)).to.equal(200);
    expect(v1.body).to.deep.equal({ vendor: 'yealink', name: 'device', version: 1, devicesChanged: 1 });
    const first = (await yealinkCfg()).text;
    expect(first).to.include('# first').and.include('account.1.display_name = Alice');
    expect((await put('yealink/device', SMALL('second'))).body.version).to.equal(2);
    expect((await yealinkCfg()).text).to.include('# second');

    const versions = await history('yealink/device');
    expect(versions.map((v) => v.version)).to.deep.equal([2, 1]);
    expect(versions[1]).to.include({ author: 'admin', comment: 'try one', size: Buffer.byteLength(SMALL('first')) });
    expect((await h.http.get('/api/v1/templates/yealink/device/history/1').set('Authorization', h.auth)).text).to.equal(SMALL('first'));
    const cur = await h.http.get('/api/v1/templates/yealink/device').set('Authorization', h.auth);
    expect(cur.text).to.equal(SMALL('second'));
    expect(cur.headers['x-template-origin']).to.equal('override');
    expect(cur.headers['x-template-version']).to.equal('2');

    const rb = await h.http.post('/api/v1/templates/yealink/device/rollback').set('Authorization', h.auth).send({ version: 1 });
    expect(rb.status, JSON.stringify(rb.body)).to.equal(200);
    expect(rb.body).to.include({ version: 3, devicesChanged: 1 });
    expect((await yealinkCfg()).text).to.equal(first);
    expect((await history('yealink/device'))[0]).to.include({ version: 3, comment: 'rollback to v1' });
    expect((await h.http.post('/api/v1/templates/yealink/device/rollback').set('Authorization', h.auth).send({ version: 9 })).status).to.equal(404);

    // DELETE: back to the shipped default, as a new version.
    const del = await h.http.delete('/api/v1/templates/yealink/device').set('Authorization', h.auth);
    expect(del.status, JSON.stringify(del.body)).to.equal(200);
    expect(del.body).to.include({ version: 4, devicesChanged: 1 });
    expect((await yealinkCfg()).text).to.equal(original);
    expect((await h.http.get('/api/v1/templates/yealink/device').set('Authorization', h.auth)).headers['x-template-origin']).to.equal('default');
    expect((await h.http.delete('/api/v1/templates/yealink/device').set('Authorization', h.auth)).status).to.equal(404);

    const audit = await h.http.get('/api/v1/audit').query({ target: 'template:yealink/device' }).set('Authorization', h.auth);
    expect(audit.status, JSON.stringify(audit.body)).to.equal(200);
    const actions = (audit.body.entries as Array<{ action: string }>).map((e) => e.action);
    expect(actions).to.deep.equal(['template.reset', 'template.rollback', 'template.save', 'template.save']);
  });

  it('preview renders for a device, masks secrets, and saves nothing', async () => {
    const before = (await yealinkCfg()).text;
    const r = await h.http
      .post('/api/v1/templates/yealink/device/preview?mac=00:15:65:AA:BB:CC')
      .set('Authorization', h.auth)
      .set('Content-Type', 'text/plain')
      .send('#!version:1.0.0.1\n{{#if line}}\naccount.1.password = {{line.password}}\naccount.1.label = {{device.label}}\n{{/if}}\n');
    expect(r.status, r.text).to.equal(200);
    expect(r.text).to.include('account.1.label = Desk 12').and.include('account.1.password = ********');
    expect(r.text).to.not.include('s3cret-alice');
    expect(await history('yealink/device')).to.deep.equal([]);
    expect((await yealinkCfg()).text).to.equal(before);
    const bad = await h.http.post('/api/v1/templates/yealink/device/preview?mac=001565aabbcc').set('Authorization', h.auth).set('Content-Type', 'text/plain').send('{{#each}}');
    expect(bad.status).to.equal(400);
    expect(bad.body.error.code).to.equal('invalid_template');
    const unknown = await h.http.post('/api/v1/templates/yealink/device/preview?mac=001565ffffff').set('Authorization', h.auth).set('Content-Type', 'text/plain').send(SMALL('x'));
    expect(unknown.status).to.equal(404);
  });

  it('diffs what a phone gets now against a candidate, for one device or a sample', async () => {
    const one = await h.http
      .post('/api/v1/templates/yealink/device/diff?mac=001565aabbcc')
      .set('Authorization', h.auth)
      .set('Content-Type', 'text/plain')
      .send(SMALL('candidate'));
    expect(one.status, one.text).to.equal(200);
    expect(one.headers['x-changed']).to.equal('true');
    expect(one.text).to.match(/^\+# candidate$/m).and.match(/^-account\.1\.enable = 1$/m).and.include('@@');
    expect(one.text).to.not.include('s3cret-alice');

    const all = await h.http.post('/api/v1/templates/yealink/device/diff').set('Authorization', h.auth).set('Content-Type', 'text/plain').send(SMALL('candidate'));
    expect(all.status).to.equal(200);
    expect(all.body).to.include({ affected: 1, considered: 1 });
    expect(all.body.devices).to.have.length(1);
    expect(all.body.devices[0]).to.include({ mac: '001565aabbcc', changed: true });

    await put('yealink/device', SMALL('v1'));
    const vs = await h.http.get('/api/v1/templates/yealink/device/diff?mac=001565aabbcc&version=1').set('Authorization', h.auth);
    expect(vs.status).to.equal(200);
    expect(vs.headers['x-changed']).to.equal('false');
    expect(await history('yealink/device')).to.have.length(1);
  });

  it('lists every template of every vendor with origin and version, model variants included', async () => {
    await put('yealink/device', SMALL('base'));
    const variant = await put('yealink/device.T46U', SMALL('t46u only'));
    expect(variant.status, JSON.stringify(variant.body)).to.equal(200);
    expect((await yealinkCfg()).text).to.include('# t46u only');
    const r = await h.http.get('/api/v1/templates').set('Authorization', h.auth);
    expect(r.status).to.equal(200);
    const list = r.body.templates as Array<Record<string, unknown>>;
    const find = (vendor: string, name: string) => list.find((t) => t.vendor === vendor && t.name === name);
    expect(find('yealink', 'device')).to.include({ origin: 'override', version: 1, author: 'admin' });
    expect(find('yealink', 'device.T46U')).to.include({ origin: 'override', version: 1 });
    expect(find('yealink', 'common')).to.include({ origin: 'default', version: 0, updatedAt: null });
    expect(find('yealink', 'boot')).to.include({ origin: 'none' });
    for (const vendor of ['polycom', 'sangoma-p', 'sangoma-s']) expect(find(vendor, 'device'), vendor).to.include({ origin: 'default' });
  });
});

describe('template diff over every device: a time budget', () => {
  it('stops at DIFF_BUDGET_MS and says so (partial, considered of total), instead of holding the event loop', async () => {
    const h = createHarness();
    try {
      const csv = ['mac,vendor,model,label,ownerExtension,hotdeskEnabled,location', ...Array.from({ length: 30 }, (_, i) => `0015650000${(i + 16).toString(16)},yealink,T46U,Desk ${i},,false,`)].join('\n');
      expect((await h.http.post('/api/v1/devices/import').set('Authorization', h.auth).set('Content-Type', 'text/csv').send(csv)).status).to.equal(201);
      // A clock that moves 500 ms each time the diff looks at it: the budget runs out after a few devices.
      let now = 0;
      const preview = new TemplatePreview(h.ctx.stores.devices, h.ctx.catalog, h.ctx.views, new TemplateImpact(h.ctx.stores.devices, h.ctx.views), () => (now += 500));
      const t = h.ctx.templates.target('yealink', 'device');
      const r = preview.diffAll(t, SMALL('candidate'));
      expect(r).to.include({ partial: true, total: 30 });
      expect(r.considered).to.equal(DIFF_BUDGET_MS / 500 + 1);
      // With time to spare it covers every device.
      expect(h.ctx.templates.preview.diffAll(t, SMALL('candidate'))).to.include({ partial: false, considered: 30, total: 30, affected: 30 });
    } finally {
      h.destroy();
    }
  });
});
