/**
 * A device's MAC is a phone's own address: the all-zero MAC (the Polycom/Sangoma common file
 * name), broadcast and group (multicast) MACs are refused wherever a device is created, and the
 * common file keeps being served.
 */
import { expect } from 'chai';
import { parseStringPromise } from 'xml2js';
import { createHarness, type Harness } from '../helpers/harness.js';

const RESERVED = [
  ['000000000000', '000000000000'],
  ['FF:FF:FF:FF:FF:FF', 'ffffffffffff'],
  ['01:00:5e:00:00:01', '01005e000001'], // IPv4 multicast
  ['33-33-00-00-00-01', '333300000001'], // IPv6 multicast
  ['0300.0000.0001', '030000000001'], // any odd first octet is a group address
] as const;

describe('device MACs: reserved addresses are not devices', () => {
  let h: Harness;
  beforeEach(() => {
    h = createHarness();
  });
  afterEach(() => h.destroy());

  const devices = async () => ((await h.http.get('/api/v1/devices').set('Authorization', h.auth)).body as { devices: Array<{ mac: string }> }).devices.map((d) => d.mac);

  for (const [input, stored] of RESERVED) {
    it(`POST /devices with ${input}: 400 naming mac, and no device`, async () => {
      const r = await h.http.post('/api/v1/devices').set('Authorization', h.auth).send({ mac: input, vendor: 'polycom', model: 'VVX450' });
      expect(r.status, JSON.stringify(r.body)).to.equal(400);
      expect(r.body.error.message).to.match(/^mac: /);
      expect(r.body.error.details.fields[0].field).to.equal('mac');
      expect((await h.http.get(`/api/v1/devices/${stored}`).set('Authorization', h.auth)).status).to.equal(404);
      expect(await devices()).to.deep.equal([]);
    });
  }

  it('ordinary unicast MACs, locally administered ones too, are still created', async () => {
    for (const mac of ['00:15:65:AA:BB:CC', '02:00:00:00:00:01', 'fe-00-00-00-00-01']) {
      const r = await h.http.post('/api/v1/devices').set('Authorization', h.auth).send({ mac, vendor: 'yealink', model: 'T46U' });
      expect(r.status, `${mac}: ${JSON.stringify(r.body)}`).to.equal(201);
    }
    expect(await devices()).to.have.members(['001565aabbcc', '020000000001', 'fe0000000001']);
  });

  it('CSV import: a reserved MAC row is named with a mac error and nothing is imported', async () => {
    const csv = [
      'mac,vendor,model,label,ownerExtension,hotdeskEnabled,location',
      '001565aabbcc,yealink,T46U,Desk 1,,false,',
      '000000000000,polycom,VVX450,Desk 2,,false,',
      'ff:ff:ff:ff:ff:ff,yealink,T46U,Desk 3,,false,',
      '01:00:5e:00:00:01,sangoma-p,P330,Desk 4,,false,',
    ].join('\n');
    const r = await h.http.post('/api/v1/devices/import').set('Authorization', h.auth).type('text/csv').send(csv);
    expect(r.status, JSON.stringify(r.body)).to.equal(400);
    const rows = r.body.error.details.rows as Array<{ line: number; errors: string[] }>;
    expect(rows.map((row) => row.line)).to.deep.equal([3, 4, 5]);
    for (const row of rows) expect(row.errors.some((e) => e.startsWith('mac: ')), JSON.stringify(row)).to.equal(true);
    expect(await devices()).to.deep.equal([]);
  });

  it('000000000000.cfg is still served as the Polycom default master', async () => {
    const polycom = await h.http.get('/000000000000.cfg').set('User-Agent', 'FileTransport PolycomVVX-VVX_450-UA/6.4.3.5017 Type/Application');
    expect(polycom.status).to.equal(200);
    const xml = await parseStringPromise(polycom.text);
    expect(xml.APPLICATION.$.CONFIG_FILES).to.include('[PHONE_MAC_ADDRESS]');
  });

  it('autoRegister never registers a broadcast or multicast MAC a request names, but does a phone\'s own', async () => {
    const auto = createHarness({ config: { provisioning: { autoRegister: true } } });
    try {
      for (const mac of ['ffffffffffff', '01005e000001', '3333000000fb']) {
        expect((await auto.http.get(`/${mac}.cfg`).set('User-Agent', 'Yealink SIP-T46U 108.86.0.90')).status, mac).to.equal(404);
      }
      expect((await auto.http.get('/001565abcdef.cfg').set('User-Agent', 'Yealink SIP-T46U 108.86.0.90')).status).to.equal(200);
      const list = await auto.http.get('/api/v1/devices').set('Authorization', auto.auth);
      expect((list.body as { devices: { mac: string }[] }).devices.map((d) => d.mac)).to.deep.equal(['001565abcdef']);
    } finally {
      auto.destroy();
    }
  });
});
