import { expect } from 'chai';
import { createHarness, type Harness } from '../helpers/harness.js';

const UA_A = 'Yealink SIP-T46U 108.86.0.90 00:15:65:aa:bb:cc';
const UA_B = 'Yealink SIP-T54W 96.86.0.90 00:15:65:00:00:01';
const A = '001565aabbcc';
const B = '001565000001';
const P = '0004f2aabbcc';

/** Prints a lobby line only on the phone labelled "Lobby". */
const lobbyTemplate = (greeting: string) =>
  [
    '#!version:1.0.0.1',
    '{{#if line}}',
    'account.1.display_name = {{line.displayName}}',
    'account.1.password = {{line.password}}',
    '{{/if}}',
    '{{#if (eq device.label "Lobby")}}',
    `# ${greeting}`,
    '{{/if}}',
    '',
  ].join('\n');

async function seed(h: Harness) {
  const ok = (r: { status: number; body: unknown }) => expect(r.status, JSON.stringify(r.body)).to.equal(201);
  const post = (path: string, body: object) => h.http.post(`/api/v1/${path}`).set('Authorization', h.auth).send(body);
  ok(await post('locations', { name: 'HQ', emergencyNumbers: ['911'] }));
  ok(await post('users', { extension: '1001', displayName: 'Alice', sipPassword: 's3cret-alice', pin: '2468' }));
  ok(await post('devices', { mac: A, vendor: 'yealink', model: 'T46U', ownerExtension: '1001', locationId: 1, label: 'Desk 12' }));
  ok(await post('devices', { mac: B, vendor: 'yealink', model: 'T54W', locationId: 1, label: 'Lobby', hotdeskEnabled: true }));
  ok(await post('devices', { mac: P, vendor: 'polycom', model: 'VVX450', ownerExtension: '1001', locationId: 1 }));
}

describe('templates: a change resyncs exactly the phones whose config changed', () => {
  let h: Harness;
  const put = (path: string, body: string) =>
    h.http.put(`/api/v1/templates/${path}`).set('Authorization', h.auth).set('Content-Type', 'text/plain').send(body);
  /** What the NOTIFY dispatcher would do: take every due resync and mark it sent. */
  const drain = () => {
    const due = h.ctx.stores.outbox.due(h.clock.now() + 1, 10_000);
    for (const e of due) h.ctx.stores.outbox.complete(e);
    return due;
  };
  const queued = () => h.ctx.stores.outbox.due(h.clock.now() + 1, 10_000);
  const version = (mac: string) => h.ctx.stores.devices.configVersion(mac);

  beforeEach(async () => {
    h = createHarness();
    await seed(h);
    drain();
  });
  afterEach(() => h.destroy());

  it('queues only the device whose rendered config changed, and nothing for a no-op save', async () => {
    const first = await put('yealink/device', lobbyTemplate('welcome'));
    expect(first.status, JSON.stringify(first.body)).to.equal(200);
    expect(first.body.devicesChanged).to.equal(2);
    expect(drain().map((e) => e.mac).sort()).to.deep.equal([B, A].sort());

    const [va, vb, vp] = [version(A), version(B), version(P)];
    const second = await put('yealink/device', lobbyTemplate('welcome, guest'));
    expect(second.body).to.deep.equal({ vendor: 'yealink', name: 'device', version: 2, devicesChanged: 1 });
    const q = queued();
    expect(q.map((e) => e.mac)).to.deep.equal([B]);
    expect(q[0]!.reason).to.equal('template yealink/device v2');
    expect([version(A), version(B), version(P)]).to.deep.equal([va, vb! + 1, vp]);
    expect((await h.http.get(`/${B}.cfg`).set('User-Agent', UA_B)).text).to.include('# welcome, guest');
    drain();

    const same = await put('yealink/device', lobbyTemplate('welcome, guest'));
    expect(same.body).to.include({ version: 3, devicesChanged: 0 });
    expect(queued()).to.deep.equal([]);
    expect([version(A), version(B), version(P)]).to.deep.equal([va, vb! + 1, vp]);
  });

  it('a model variant resyncs only phones of that model; the common file resyncs the whole vendor', async () => {
    const variant = await put('yealink/device.T54W', lobbyTemplate('T54W only'));
    expect(variant.body.devicesChanged).to.equal(1);
    expect(drain().map((e) => e.mac)).to.deep.equal([B]);
    expect((await h.http.get(`/${B}.cfg`).set('User-Agent', UA_B)).text).to.include('# T54W only');
    expect((await h.http.get(`/${A}.cfg`).set('User-Agent', UA_A)).text).to.not.include('T54W only');

    // A base-template change does not reach B, which renders with its own variant.
    expect((await put('yealink/device', lobbyTemplate('base'))).body.devicesChanged).to.equal(1);
    expect(drain().map((e) => e.mac)).to.deep.equal([A]);

    const common = (await h.http.get('/api/v1/templates/yealink/common').set('Authorization', h.auth)).text;
    const edited = `${common.trimEnd()}\n# edited\n`;
    const r = await put('yealink/common', edited);
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    expect(r.body.devicesChanged).to.equal(2);
    expect(drain().map((e) => e.mac).sort()).to.deep.equal([A, B].sort());
    expect((await h.http.get('/y000000000108.cfg').set('User-Agent', UA_A)).text).to.include('# edited');
  });

  it('a refused save queues nothing and bumps no version', async () => {
    const [va, vb] = [version(A), version(B)];
    const r = await put('yealink/device', '#!version:1.0.0.1\n{{line.displayName}}\n');
    expect(r.status).to.equal(400);
    expect(queued()).to.deep.equal([]);
    expect([version(A), version(B)]).to.deep.equal([va, vb]);
  });

  it('refuses a template that passes the samples but breaks for a real phone, naming it', async () => {
    const body = '#!version:1.0.0.1\n{{#if (eq device.label "Lobby")}}\nx = {{line.displayName}}\n{{/if}}\n';
    const r = await put('yealink/device', body);
    expect(r.status, JSON.stringify(r.body)).to.equal(400);
    expect(r.body.error.details).to.include({ line: 3, state: `device ${B}` });
    expect(queued()).to.deep.equal([]);
    expect((await h.http.get(`/api/v1/templates/yealink/device/history`).set('Authorization', h.auth)).body.versions).to.deep.equal([]);
  });
});

describe('templates: cached renders never outlive a change', () => {
  let h: Harness;
  const fetchA = async () => (await h.http.get(`/${A}.cfg`).set('User-Agent', UA_A)).text;
  const fetchB = async () => (await h.http.get(`/${B}.cfg`).set('User-Agent', UA_B)).text;
  /** The phone asking twice: a repeat, whose answer is kept for the next identical request (answer-memo.ts). */
  const fetchTwice = async (fetch: () => Promise<string>) => (await fetch(), fetch());
  const patch = (path: string, body: object) => h.http.patch(`/api/v1/${path}`).set('Authorization', h.auth).send(body);

  beforeEach(async () => {
    h = createHarness();
    await seed(h);
  });
  afterEach(() => h.destroy());

  it('serves from cache while nothing changed', async () => {
    const first = await fetchA();
    const hits = h.ctx.renderer.cacheStats().hits;
    expect(await fetchA()).to.equal(first);
    expect(h.ctx.renderer.cacheStats().hits).to.equal(hits + 1);
  });

  it('user edit: the new display name is served on the next fetch', async () => {
    expect(await fetchTwice(fetchA)).to.match(/^account\.1\.display_name = Alice$/m);
    expect((await patch('users/1001', { displayName: 'Alice Cooper' })).status).to.equal(200);
    expect(await fetchA()).to.match(/^account\.1\.display_name = Alice Cooper$/m);
  });

  it('location edit: the new emergency number is served on the next fetch', async () => {
    expect(await fetchTwice(fetchA)).to.match(/^dialplan\.emergency\.1\.value = 911$/m);
    expect((await patch('locations/1', { emergencyNumbers: ['112'] })).status).to.equal(200);
    const text = await fetchA();
    expect(text).to.match(/^dialplan\.emergency\.1\.value = 112$/m);
    expect(text).to.not.match(/= 911$/m);
  });

  it('state change: assigning an owner makes the credentials appear', async () => {
    const before = await fetchTwice(fetchB);
    expect(before).to.match(/^account\.1\.enable = 0$/m);
    expect(before).to.not.include('s3cret-alice');
    expect((await patch(`devices/${B}`, { ownerExtension: '1001' })).status).to.equal(200);
    const after = await fetchB();
    expect(after).to.match(/^account\.1\.enable = 1$/m);
    expect(after).to.match(/^account\.1\.password = s3cret-alice$/m);
  });

  it('template save, rollback and reset: each is served on the next fetch', async () => {
    const original = await fetchTwice(fetchA);
    const put = (body: string) => h.http.put('/api/v1/templates/yealink/device').set('Authorization', h.auth).set('Content-Type', 'text/plain').send(body);
    expect((await put(lobbyTemplate('one'))).status).to.equal(200);
    const one = await fetchA();
    expect(one).to.not.equal(original);
    expect(one).to.include('account.1.display_name = Alice');
    expect((await put(lobbyTemplate('two').replace('display_name', 'label'))).status).to.equal(200);
    expect(await fetchA()).to.include('account.1.label = Alice');
    expect((await h.http.post('/api/v1/templates/yealink/device/rollback').set('Authorization', h.auth).send({ version: 1 })).status).to.equal(200);
    expect(await fetchA()).to.equal(one);
    expect((await h.http.delete('/api/v1/templates/yealink/device').set('Authorization', h.auth)).status).to.equal(200);
    expect(await fetchA()).to.equal(original);
  });
});
