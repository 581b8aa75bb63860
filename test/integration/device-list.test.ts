/**
 * The device list's filters: each narrows the list, and a filter value that names nothing that
 * can exist (an unknown vendor or state) is a 400 naming it, not an empty list that reads as "no phones".
 */
import { expect } from 'chai';
import { createHarness, type Harness } from '../helpers/harness.js';
import { MAC, seedOffice } from '../helpers/hotdesk.js';

describe('device list filters', () => {
  let h: Harness;
  before(async () => {
    h = createHarness();
    await seedOffice(h);
  });
  after(() => h.destroy());

  const list = (query: string) => h.http.get(`/api/v1/devices?${query}`).set('Authorization', h.auth);
  const macs = async (query: string) => {
    const r = await list(query);
    expect(r.status, JSON.stringify(r.body)).to.equal(200);
    return (r.body as { devices: { mac: string }[] }).devices.map((d) => d.mac).sort();
  };

  it('narrows by vendor, state, owner and text', async () => {
    expect(await macs('vendor=polycom')).to.deep.equal([MAC.P]);
    expect(await macs('vendor=yealink&state=owner')).to.deep.equal([MAC.A, MAC.C].sort());
    expect(await macs('owner=300')).to.deep.equal([MAC.C]);
    expect(await macs('q=Desk%202')).to.deep.equal([MAC.B]);
  });

  it('total counts every match, past the page that limit/offset cut', async () => {
    const all = (await list('')).body as { devices: unknown[]; total: number };
    expect(all.total).to.equal(all.devices.length);
    const r = await list('vendor=yealink&limit=1&offset=1');
    expect(r.body.devices).to.have.length(1);
    expect(r.body.total).to.equal((await macs('vendor=yealink')).length);
  });

  it('an unknown vendor or state is a 400 that says what is expected', async () => {
    for (const [query, field] of [['vendor=cisco', 'vendor'], ['state=zzz', 'state']] as const) {
      const r = await list(query);
      expect(r.status, query).to.equal(400);
      expect(r.body.error.message, query).to.contain(field).and.contain('expected');
    }
  });
});
