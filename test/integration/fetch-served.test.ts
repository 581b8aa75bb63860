/**
 * fetched_version (the "version last fetched" of a device's sync status) when fetches arrive
 * without a cached head, as those a phone worker answered do: written when it changes, and never
 * skipped for a device deleted and added again at the same version number. And a device's last
 * fetch, read from its newest fetch-log row.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../db/index.js';
import { DeviceStore, type FetchRecord } from '../../db/stores/devices.js';
import { parseMac } from '../../server/domain/mac.js';

const MAC = parseMac('001565aabbcc')!;
const device = { mac: MAC, vendor: 'yealink', model: 'T54W', label: null, ownerExtension: null, hotdeskEnabled: true, locationId: null, sipContact: null, sessionTimeout: null };
const fetch = (configVersion: number | null, at: number): FetchRecord => ({
  mac: MAC, at, ip: '10.0.0.9', userAgent: 'Yealink SIP-T54W 96.86.0.100 00:15:65:aa:bb:cc', model: 'T54W', firmware: '96.86.0.100',
  file: `${MAC}.cfg`, status: 200, configVersion, lineUser: configVersion === null ? null : '1001', extension: configVersion === null ? null : '1001',
});

describe('fetched_version from fetch records without a cached head', () => {
  let dir: string;
  let db: Db;
  let store: DeviceStore;
  const fetchedVersion = () => (db.prepare('SELECT fetched_version AS v FROM devices WHERE mac = ?').get(MAC) as { v: number | null }).v;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'deskprov-served-'));
    db = openDatabase(join(dir, 'deskprov.db'));
    store = new DeviceStore(db);
    store.insert(device, 1000);
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records the version served, and the next one after a change', () => {
    store.recordFetches([fetch(1, 2000)]);
    expect(fetchedVersion()).to.equal(1);
    store.recordFetches([fetch(1, 3000)]);
    expect(fetchedVersion()).to.equal(1);
    store.bumpVersion(MAC, 3500);
    store.recordFetches([fetch(2, 4000)]);
    expect(fetchedVersion()).to.equal(2);
  });

  it("a record that arrives late (a worker's batch from before a change) does not move fetched_version back", () => {
    store.recordFetches([fetch(1, 2000)]);
    store.bumpVersion(MAC, 2500);
    store.recordFetches([fetch(2, 3000)]); // the primary's own fetch of the new version
    expect(fetchedVersion()).to.equal(2);
    store.recordFetches([fetch(1, 2400)]); // a phone worker's record of the old one, sent before the change
    expect(fetchedVersion(), 'the phone has version 2').to.equal(2);
    store.recordFetches([fetch(2, 3500)]);
    expect(fetchedVersion()).to.equal(2);
  });

  it('a device deleted and added again at version 1 gets its fetch recorded again', () => {
    store.recordFetches([fetch(1, 2000)]);
    expect(fetchedVersion()).to.equal(1);
    store.delete(MAC);
    store.insert(device, 5000);
    expect(fetchedVersion()).to.equal(null);
    store.recordFetches([fetch(1, 6000)]);
    expect(fetchedVersion()).to.equal(1);
  });

  it('a batch that fails to commit is not remembered as written', () => {
    const original = db.transaction.bind(db);
    let fail = true;
    // The batch's statements run, then the commit fails: everything is rolled back.
    (db as { transaction: typeof db.transaction }).transaction = ((fn: () => void) =>
      original(() => {
        fn();
        if (fail) throw new Error('SQLITE_BUSY (simulated)');
      })) as typeof db.transaction;
    expect(() => store.recordFetches([fetch(1, 2000)])).to.throw(/simulated/);
    fail = false;
    store.recordFetches([fetch(1, 3000)]);
    expect(fetchedVersion()).to.equal(1);
  });

  it("a device's last fetch is its newest record; a fetch without a User-Agent keeps the model and firmware known", () => {
    store.recordFetches([fetch(null, 2000)]);
    store.recordFetches([{ ...fetch(null, 3000), ip: '10.0.0.10', userAgent: null, model: null, firmware: null, file: 'y000000000000.cfg' }]);
    expect(store.get(MAC)!.lastFetch).to.deep.equal({ at: 3000, ip: '10.0.0.10', userAgent: null, file: 'y000000000000.cfg', model: 'T54W', firmware: '96.86.0.100', repeats: 0 });
  });

  it('a device deleted and added again has no last fetch until it fetches again', () => {
    store.recordFetches([fetch(1, 2000)]);
    store.delete(MAC);
    // A record of the old device still on its way (recorded before the delete) is not shown either.
    store.insert(device, 5000);
    store.recordFetches([fetch(1, 4000)]);
    expect(store.get(MAC)!.lastFetch).to.equal(null);
    expect(store.list().find((d) => d.mac === MAC)!.lastFetch).to.equal(null);
    store.recordFetches([fetch(1, 6000)]);
    expect(store.get(MAC)!.lastFetch).to.include({ at: 6000, model: 'T54W' });
  });
});
