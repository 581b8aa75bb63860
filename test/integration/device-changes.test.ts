/**
 * Device change notes (migrations 007 and 009): every store method that writes a row a phone
 * worker caches notes the change, a new fetched_version is a fetched note, and a change to
 * thousands of devices at once is one note for all.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../db/index.js';
import { ALL_DEVICES } from '../../db/stores/device-changes.js';
import { createStores, type Stores } from '../../db/stores/index.js';
import { databaseBefore } from '../helpers/old-database.js';
import { parseMac } from '../../server/domain/mac.js';

const MAC = parseMac('001565aabbcc')!;
const OTHER = parseMac('001565aabbdd')!;
const device = (mac: typeof MAC) => ({ mac, vendor: 'yealink', model: 'T54W', label: null, ownerExtension: null, hotdeskEnabled: true, locationId: null, sipContact: null, sessionTimeout: null });

describe('device change notes', () => {
  let dir: string;
  let db: Db;
  let s: Stores;
  let seen: number;
  /** The notes since the last call: MACs, and `fetched:MAC` for a fetched note. */
  const noted = () => {
    const rows = s.deviceChanges.since(seen, 1000);
    if (rows.length) seen = rows[rows.length - 1]!.seq;
    return rows.map((r) => (r.fetched ? `fetched:${r.mac}` : r.mac));
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'deskprov-notes-'));
    db = openDatabase(join(dir, 'deskprov.db'));
    s = createStores(db);
    seen = s.deviceChanges.latest();
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('notes a device added, changed, bumped, fetched at a new version and deleted', () => {
    s.devices.insert(device(MAC), 1000);
    expect(noted()).to.deep.equal([MAC]);
    s.devices.update({ ...device(MAC), model: 'T57W' }, 2000);
    expect(noted()).to.deep.equal([MAC]);
    s.devices.bumpVersions([MAC], 3000);
    expect(noted()).to.deep.equal([MAC]);
    const f = { mac: MAC, at: 4000, ip: '10.0.0.1', userAgent: null, model: null, firmware: null, file: `${MAC}.cfg`, status: 200, configVersion: 2, lineUser: null, extension: null };
    s.devices.recordFetches([f]);
    expect(noted(), 'fetched_version written: a fetched note (a worker keeps the renders)').to.deep.equal([`fetched:${MAC}`]);
    s.devices.recordFetches([{ ...f, at: 5000 }]);
    expect(noted(), 'the same version again changes no row').to.deep.equal([]);
    s.devices.delete(MAC);
    expect(noted()).to.deep.equal([MAC]);
  });

  it('download-auth rows are noted; a bump of many devices is one note for all', () => {
    s.devices.insert(device(MAC), 1000);
    noted();
    s.downloadAuth.ensure(MAC, { mode: 'provision', username: 'u', password: 'p', credsVersion: 1 }, 2000);
    expect(noted()).to.deep.equal([MAC]);
    const rec = s.downloadAuth.get(MAC)!;
    s.downloadAuth.save({ ...rec, mode: 'enforce' }, 3000);
    expect(noted()).to.deep.equal([MAC]);
    s.devices.bumpVersions([MAC, OTHER], 4000);
    expect(noted()).to.deep.equal([MAC, OTHER]);
    const many = Array.from({ length: 300 }, (_, i) => parseMac(`0015650${i.toString(16).padStart(5, '0')}`)!);
    s.devices.bumpVersions(many, 5000);
    expect(noted()).to.deep.equal([ALL_DEVICES]);
  });

  it('trim keeps the newest notes, and numbering carries on after them', () => {
    s.devices.insert(device(MAC), 1000);
    s.devices.insert(device(OTHER), 1000);
    for (let i = 0; i < 10; i++) s.devices.bumpVersion(MAC, 2000 + i);
    const newest = s.deviceChanges.latest();
    expect(s.deviceChanges.trim(3)).to.equal(9);
    expect(s.deviceChanges.since(0, 100).map((r) => r.seq)).to.deep.equal([newest - 2, newest - 1, newest]);
    s.devices.bumpVersion(OTHER, 3000);
    expect(s.deviceChanges.since(newest, 100)).to.deep.equal([{ seq: newest + 1, mac: OTHER, fetched: 0 }]);
  });

  it('a database that ran the retired migration 008 (repeat counting) still gets the fetched notes of 009', () => {
    const path = join(dir, 'upgraded.db');
    const old = databaseBefore(path, 8);
    // What 008 did before it was reverted.
    old.exec('ALTER TABLE fetch_log ADD COLUMN repeats INTEGER NOT NULL DEFAULT 0; ALTER TABLE fetch_log ADD COLUMN last_at INTEGER');
    old.prepare('INSERT INTO schema_migrations VALUES (8, ?, 0)').run('008_fetch_repeats.sql');
    old.close();

    const upgraded = openDatabase(path);
    try {
      const st = createStores(upgraded);
      st.devices.insert(device(MAC), 1000);
      const mark = st.deviceChanges.latest();
      st.devices.recordFetches([{ mac: MAC, at: 2000, ip: '10.0.0.1', userAgent: null, model: null, firmware: null, file: `${MAC}.cfg`, status: 200, configVersion: 1, lineUser: null, extension: null }]);
      expect(st.deviceChanges.since(mark, 10).map((c) => [c.mac, c.fetched])).to.deep.equal([[MAC, 1]]);
    } finally {
      upgraded.close();
    }
  });
});
