/**
 * Repeated fetches (provisioning.fetchRepeatSeconds): a fetch like the device's last logged fetch
 * of the same file within the window is counted on that row (repeats, last_at) rather than added,
 * on a real database file. What an admin sees: the fetch history and the device's last fetch.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../db/index.js';
import type { FetchRecord } from '../../db/stores/devices.js';
import { createStores, type Stores } from '../../db/stores/index.js';
import { parseMac } from '../../server/domain/mac.js';
import { FetchRecorder } from '../../server/services/fetch-recorder.js';
import { FetchLogWriter } from '../../server/services/fetch-writer.js';
import { createHarness, type Harness } from '../helpers/harness.js';

const MAC = parseMac('001565aa0101')!;
const OTHER = parseMac('001565aa0102')!;
const fetchAt = (at: number, o: Partial<FetchRecord> = {}): FetchRecord => ({
  mac: MAC, at, ip: '10.1.2.3', userAgent: 'Yealink SIP-T54W 96.86.0.100', model: 'T54W', firmware: '96.86.0.100',
  file: `${MAC}.cfg`, status: 200, configVersion: 1, lineUser: '1001', extension: '1001', ...o,
});

describe('repeated fetches are counted on one fetch-log row', function () {
  this.timeout(30_000);
  let dir: string;
  let db: Db;
  let stores: Stores;
  let recorder: FetchRecorder;
  let errors: unknown[];

  const history = (mac = MAC) => stores.devices.fetchHistory(mac, 50).map((f) => ({ at: f.at, file: f.file, status: f.status, repeats: f.repeats, lastAt: f.lastAt }));

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'deskprov-repeats-'));
    db = openDatabase(join(dir, 'deskprov.db'));
    stores = createStores(db);
    errors = [];
    for (const mac of [MAC, OTHER]) {
      stores.devices.insert({ mac, vendor: 'yealink', model: 'T54W', label: null, ownerExtension: null, hotdeskEnabled: true, locationId: null, sipContact: null, sessionTimeout: null }, 1000);
    }
    recorder = new FetchRecorder(stores.devices, 250, 2000, (e) => errors.push(e));
  });
  afterEach(async () => {
    await recorder.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
    expect(errors).to.deep.equal([]);
  });

  it('identical fetches within the window: one row, the count and the last time on it, and the last fetch is the last one', () => {
    for (let i = 0; i < 5; i++) recorder.record(fetchAt(10_000 + i * 1000));
    recorder.flush();
    expect(history()).to.deep.equal([{ at: 10_000, file: `${MAC}.cfg`, status: 200, repeats: 4, lastAt: 14_000 }]);
    expect(stores.devices.get(MAC)!.lastFetch).to.include({ at: 14_000, file: `${MAC}.cfg` });
    // Counted after a flush: added to what the row has.
    recorder.record(fetchAt(15_000));
    recorder.flush();
    expect(history()[0]).to.include({ repeats: 5, lastAt: 15_000 });
  });

  it('a different status, address, User-Agent or config version is a row of its own; the count stays with the row it belongs to', () => {
    recorder.record(fetchAt(10_000));
    recorder.record(fetchAt(11_000));
    recorder.record(fetchAt(12_000, { status: 304 }));
    recorder.record(fetchAt(13_000, { status: 304 }));
    recorder.record(fetchAt(14_000, { status: 304, ip: '10.1.2.4' }));
    recorder.record(fetchAt(15_000, { status: 304, ip: '10.1.2.4', userAgent: 'Yealink SIP-T54W 96.86.0.120' }));
    recorder.record(fetchAt(16_000, { status: 304, ip: '10.1.2.4', userAgent: 'Yealink SIP-T54W 96.86.0.120', configVersion: 2 }));
    recorder.flush();
    expect(history().reverse()).to.deep.equal([
      { at: 10_000, file: `${MAC}.cfg`, status: 200, repeats: 1, lastAt: 11_000 },
      { at: 12_000, file: `${MAC}.cfg`, status: 304, repeats: 1, lastAt: 13_000 },
      { at: 14_000, file: `${MAC}.cfg`, status: 304, repeats: 0, lastAt: null },
      { at: 15_000, file: `${MAC}.cfg`, status: 304, repeats: 0, lastAt: null },
      { at: 16_000, file: `${MAC}.cfg`, status: 304, repeats: 0, lastAt: null },
    ]);
    // A new config version served is written at once: the sync status shows it.
    expect((db.prepare('SELECT fetched_version AS v FROM devices WHERE mac = ?').get(MAC) as { v: number }).v).to.equal(2);
  });

  it('each file and each device has its own row; a fetch after the window starts a new row', () => {
    recorder.record(fetchAt(10_000));
    recorder.record(fetchAt(10_500, { file: 'y000000000108.cfg', configVersion: null, lineUser: null, extension: null }));
    recorder.record(fetchAt(11_000));
    recorder.record(fetchAt(11_500, { mac: OTHER, file: `${OTHER}.cfg` }));
    recorder.record(fetchAt(69_999));
    recorder.record(fetchAt(70_000));
    recorder.flush();
    expect(history().reverse()).to.deep.equal([
      { at: 10_000, file: `${MAC}.cfg`, status: 200, repeats: 2, lastAt: 69_999 },
      { at: 10_500, file: 'y000000000108.cfg', status: 200, repeats: 0, lastAt: null },
      { at: 70_000, file: `${MAC}.cfg`, status: 200, repeats: 0, lastAt: null },
    ]);
    expect(history(OTHER)).to.have.length(1);
  });

  it('close() writes the counts still held', async () => {
    for (let i = 0; i < 3; i++) recorder.record(fetchAt(10_000 + i));
    await recorder.close();
    expect(history()).to.deep.equal([{ at: 10_000, file: `${MAC}.cfg`, status: 200, repeats: 2, lastAt: 10_002 }]);
    recorder = new FetchRecorder(stores.devices, 250, 2000, (e) => errors.push(e));
  });

  it('with fetchRepeatSeconds 0 every fetch is a row', () => {
    const plain = new FetchRecorder(stores.devices, 250, 2000, (e) => errors.push(e), undefined, { repeatWindowMs: 0 });
    for (let i = 0; i < 3; i++) plain.record(fetchAt(10_000 + i));
    plain.flush();
    void plain.close();
    expect(history()).to.have.length(3);
  });

  it('counts reach the database through the writer thread too', async () => {
    await recorder.close();
    recorder = new FetchRecorder(stores.devices, 250, 2000, (e) => errors.push(e), new FetchLogWriter(db, stores.devices, (e) => errors.push(e)));
    for (let i = 0; i < 4; i++) recorder.record(fetchAt(10_000 + i * 10));
    recorder.record(fetchAt(10_100, { status: 304 }));
    recorder.flush();
    expect(history().reverse()).to.deep.equal([
      { at: 10_000, file: `${MAC}.cfg`, status: 200, repeats: 3, lastAt: 10_030 },
      { at: 10_100, file: `${MAC}.cfg`, status: 304, repeats: 0, lastAt: null },
    ]);
  });
});

describe('repeated fetches through the phone and admin interfaces', () => {
  const mac = '001565aabbcc';
  const ua = 'Yealink SIP-T46U 108.86.0.90 00:15:65:aa:bb:cc';
  let h: Harness;
  const fetchCfg = () => h.http.get(`/${mac}.cfg`).set('User-Agent', ua).expect(200);
  const device = async () => (await h.http.get(`/api/v1/devices/${mac}`).set('Authorization', h.auth).expect(200)).body;

  beforeEach(async () => {
    h = createHarness();
    await h.http.post('/api/v1/users').set('Authorization', h.auth).send({ extension: '1001', displayName: 'Alice', sipPassword: 's3cret-alice' }).expect(201);
    await h.http.post('/api/v1/devices').set('Authorization', h.auth).send({ mac, vendor: 'yealink', model: 'T46U', ownerExtension: '1001' }).expect(201);
  });
  afterEach(() => h.destroy());

  it('the device page shows one row with its count; lastFetch is the last repeat', async () => {
    await fetchCfg();
    h.clock.advance(5_000);
    await fetchCfg();
    h.clock.advance(5_000);
    await fetchCfg();
    const d = await device();
    const rows = d.fetches.filter((f: { file: string }) => f.file === `${mac}.cfg`);
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ repeats: 2, lastAt: new Date(h.clock.now()).toISOString() });
    expect(d.lastFetch.at).to.equal(new Date(h.clock.now()).toISOString());
  });

  it('a device deleted and added again: its next fetch is a row of its own and its sync shows it', async () => {
    await fetchCfg();
    await h.http.delete(`/api/v1/devices/${mac}`).set('Authorization', h.auth).expect(204);
    await h.http.post('/api/v1/devices').set('Authorization', h.auth).send({ mac, vendor: 'yealink', model: 'T46U', ownerExtension: '1001' }).expect(201);
    h.clock.advance(2_000);
    await fetchCfg();
    const d = await device();
    expect(d.fetches).to.have.length(1);
    expect(d.fetches[0]).to.include({ repeats: 0, at: new Date(h.clock.now()).toISOString() });
    expect(d.lastFetch.at).to.equal(new Date(h.clock.now()).toISOString());
    expect(d.sync.fetchedVersion).to.equal(d.sync.configVersion);
  });
});
