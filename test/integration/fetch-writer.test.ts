/**
 * Fetch-record writers (server/services/fetch-writer.ts) on a real database file. The default
 * writes a slice per event-loop turn; the writer thread (`provisioning.fetchLogThread`): what it
 * writes is there after flush(), the main thread's caches follow it, the main thread's own
 * transactions run beside it, and nothing recorded is lost when the thread fails or stops.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, WAL_AUTOCHECKPOINT_PAGES, type Db } from '../../db/index.js';
import type { FetchRecord } from '../../db/stores/devices.js';
import { createStores, type Stores } from '../../db/stores/index.js';
import { parseMac, type Mac } from '../../server/domain/mac.js';
import { FetchRecorder } from '../../server/services/fetch-recorder.js';
import { FetchLogWriter, SlicedFetchWriter, type FetchWriterOptions } from '../../server/services/fetch-writer.js';

const macs: Mac[] = Array.from({ length: 50 }, (_, i) => parseMac(`001565aa${i.toString(16).padStart(4, '0')}`)!);
const fetchOf = (mac: Mac, at: number, configVersion: number | null = null): FetchRecord => ({
  mac, at, ip: '10.1.2.3', userAgent: 'Yealink SIP-T54W 96.86.0.100', model: 'T54W', firmware: '96.86.0.100',
  file: `${mac}.cfg`, status: 200, configVersion, lineUser: configVersion === null ? null : '1001', extension: configVersion === null ? null : '1001',
});

describe('fetch-record writers', function () {
  this.timeout(30_000);
  let dir: string;
  let db: Db;
  let stores: Stores;
  let errors: unknown[];
  let recorder: FetchRecorder | null;

  const start = (o: FetchWriterOptions = {}) => {
    const writer = new FetchLogWriter(db, stores.devices, (e) => errors.push(e), o);
    recorder = new FetchRecorder(stores.devices, 250, 2000, (e) => errors.push(e), writer);
    return recorder;
  };
  const logged = (mac?: Mac) =>
    (mac ? db.prepare('SELECT count(*) AS n FROM fetch_log WHERE mac = ?').get(mac) : db.prepare('SELECT count(*) AS n FROM fetch_log').get()) as { n: number };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'deskprov-writer-'));
    db = openDatabase(join(dir, 'deskprov.db'));
    stores = createStores(db);
    errors = [];
    recorder = null;
    stores.tx(() => {
      for (const mac of macs) {
        stores.devices.insert({ mac, vendor: 'yealink', model: 'T54W', label: null, ownerExtension: null, hotdeskEnabled: true, locationId: null, sipContact: null, sessionTimeout: null }, 1000);
      }
    });
  });
  afterEach(async () => {
    await recorder?.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('on the main thread: one slice per event-loop turn, the rest at flush()', async () => {
    const r = (recorder = new FetchRecorder(stores.devices, 250, 2000, (e) => errors.push(e), new SlicedFetchWriter(stores.devices, (e) => errors.push(e), 100)));
    for (let i = 0; i < 2000; i++) r.record(fetchOf(macs[i % macs.length]!, 2000 + i)); // a full batch: handed over at once
    expect(logged().n).to.equal(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(logged().n).to.equal(100);
    await new Promise((resolve) => setImmediate(resolve));
    expect(logged().n).to.equal(200);
    r.record(fetchOf(macs[0]!, 9000));
    r.flush();
    expect(logged().n).to.equal(2001);
    expect(errors).to.deep.equal([]);
  });

  it('on the main thread, records coming faster than a slice a turn are written a burst a turn down to maxQueued, and beyond four times it at once', async () => {
    const r = (recorder = new FetchRecorder(stores.devices, 250, 2000, (e) => errors.push(e), new SlicedFetchWriter(stores.devices, (e) => errors.push(e), 100, 500, 300)));
    for (let i = 0; i < 4000; i++) r.record(fetchOf(macs[i % macs.length]!, 2000 + i)); // two full batches handed over
    expect(r.pending(), 'queued').to.equal(4000);
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    await turn();
    expect(logged().n, 'beyond 4 x 500: down to 2,000 at once').to.equal(2000);
    await turn();
    expect(logged().n, 'then a burst of 300 a turn').to.equal(2300);
    for (let t = 0; t < 4; t++) await turn();
    expect(logged().n, 'until 500 are left').to.equal(3500);
    await turn();
    expect(logged().n, 'then a slice a turn again').to.equal(3600);
    r.flush();
    expect(logged().n).to.equal(4000);
    expect(r.pending()).to.equal(0);
    expect(errors).to.deep.equal([]);
  });

  it('counts what the writer thread has not written yet as pending', () => {
    const r = start();
    for (let i = 0; i < 3000; i++) r.record(fetchOf(macs[i % macs.length]!, 2000 + i));
    expect(r.pending()).to.equal(3000);
    r.flush();
    expect(r.pending()).to.equal(0);
    expect(logged().n).to.equal(3000);
  });

  it('writes the records off the main thread; flush() returns once they are in the database', () => {
    const r = start();
    for (let i = 0; i < 5000; i++) r.record(fetchOf(macs[i % macs.length]!, 2000 + i));
    r.flush();
    expect(logged().n).to.equal(5000);
    const d = stores.devices.get(macs[7]!)!;
    expect(d.lastFetch).to.include({ ip: '10.1.2.3', file: `${macs[7]}.cfg`, firmware: '96.86.0.100' });
    expect(errors).to.deep.equal([]);
    // The main connection leaves checkpoints to the thread while it runs.
    expect(db.pragma('wal_autocheckpoint', { simple: true })).to.equal(0);
  });

  it('the version a phone fetched reaches the cached device head once written', () => {
    const r = start();
    const mac = macs[3]!;
    expect(stores.devices.head(mac)!.fetchedVersion).to.equal(null); // cached now
    r.record(fetchOf(mac, 2000, 1));
    r.flush();
    expect(stores.devices.head(mac)!.fetchedVersion).to.equal(1);
    stores.devices.bumpVersion(mac, 2500);
    r.record(fetchOf(mac, 3000, 2));
    r.flush();
    expect(stores.devices.head(mac)!.fetchedVersion).to.equal(2);
  });

  it("the main thread's read-then-write transactions run while the thread writes", () => {
    const r = start({ chunk: 64 });
    for (let i = 0; i < 9_000; i++) r.record(fetchOf(macs[i % macs.length]!, 2000 + i));
    // While those batches are being written: transactions that read a row, take their time (the
    // thread commits meanwhile), then write it. Begun deferred, the write would fail (SQLITE_BUSY).
    for (let i = 0; i < 20; i++) {
      const mac = macs[i % macs.length]!;
      stores.tx(() => {
        const d = stores.devices.get(mac)!;
        for (const until = Date.now() + 10; Date.now() < until; );
        stores.devices.update({ ...d, label: `desk ${i}` }, 3000 + i);
      });
    }
    r.flush();
    expect(errors.map(String)).to.deep.equal([]);
    expect(logged().n).to.equal(9_000); // 180 a device: under the 200 each keeps
    expect(stores.devices.get(macs[19]!)!.label).to.equal('desk 19');
    expect(errors).to.deep.equal([]);
  });

  it('a thread that cannot start: the records are written on the main thread, none lost', () => {
    const broken = join(dir, 'broken-thread.ts');
    writeFileSync(broken, "throw new Error('this thread never starts');\n");
    const r = start({ entry: broken });
    for (let i = 0; i < 300; i++) r.record(fetchOf(macs[i % macs.length]!, 2000 + i));
    r.flush();
    expect(logged().n).to.equal(300);
    // And after: straight to the database, with the main connection checkpointing again.
    r.record(fetchOf(macs[0]!, 9000));
    r.flush();
    expect(logged(macs[0]!).n).to.equal(7);
    expect(String(errors[0])).to.match(/did not start/);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).to.equal(WAL_AUTOCHECKPOINT_PAGES);
  });

  it('close() writes what is buffered; records after it go to the database directly', async () => {
    const r = start();
    for (let i = 0; i < 100; i++) r.record(fetchOf(macs[i % macs.length]!, 2000 + i));
    await r.close();
    expect(logged().n).to.equal(100);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).to.equal(WAL_AUTOCHECKPOINT_PAGES);
    r.record(fetchOf(macs[1]!, 5000));
    r.flush();
    expect(logged().n).to.equal(101);
  });
});
