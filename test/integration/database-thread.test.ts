/**
 * The database thread (server/services/database-thread.ts): WAL checkpoints and stored-render
 * writes off the event loop. While it runs, the main connection commits without copying the WAL
 * back into the database file and hands stored renders over; if it fails, the main connection
 * does both again and nothing handed over is lost.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, WAL_AUTOCHECKPOINT_PAGES, type Db } from '../../db/index.js';
import { createStores, type Stores } from '../../db/stores/index.js';
import type { RenderWrite } from '../../db/stores/rendered-files.js';
import type { Mac } from '../../server/domain/mac.js';
import { BACKSTOP_PAGES, DatabaseThread } from '../../server/services/database-thread.js';
import { StoredRenders } from '../../server/services/stored-renders.js';

const PAGE = 4096;
const MAC = '001565000001' as Mac;

describe('database thread', () => {
  let dir: string;
  let db: Db;
  let stores: Stores;
  let path: string;
  let thread: DatabaseThread | null = null;
  const errors: Error[] = [];
  const fileSize = () => statSync(path).size;
  /** About `pages` pages of new rows, committed 100 at a time like the fetch writer's slices. */
  const write = (pages: number) => {
    const insert = db.prepare('INSERT INTO scratch (body) VALUES (?)');
    const body = Buffer.alloc(PAGE - 200, 7);
    for (let i = 0; i < pages; i += 100) db.transaction(() => { for (let j = 0; j < 100; j++) insert.run(body); })();
  };
  const until = async (cond: () => boolean, ms = 5000) => {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const render = (configVersion: number, text = `render of version ${configVersion}`): RenderWrite => ({
    mac: MAC, template: 'device', stamp: 's1', configVersion, body: Buffer.from(text), etag: `"e${configVersion}"`, contentType: 'text/plain',
    lineUser: null, extension: null, deviceCreatedAt: stores.devices.get(MAC)!.createdAt, renderedAt: 1,
  });

  beforeEach(() => {
    errors.length = 0;
    dir = mkdtempSync(join(tmpdir(), 'deskprov-dbthread-'));
    path = join(dir, 'deskprov.db');
    db = openDatabase(path);
    stores = createStores(db);
    db.exec('CREATE TABLE scratch (id INTEGER PRIMARY KEY, body BLOB NOT NULL) STRICT');
    stores.devices.insert({ mac: MAC, vendor: 'yealink', model: 'T46U', label: null, ownerExtension: null, hotdeskEnabled: true, locationId: null, sipContact: null, sessionTimeout: null }, 1000);
    db.pragma('wal_checkpoint(TRUNCATE)');
  });
  afterEach(async () => {
    await thread?.close();
    thread = null;
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes the checkpoints: commits leave the database file alone until the thread copies the WAL', async () => {
    const copied: number[] = [];
    thread = new DatabaseThread(db, stores.renderedFiles, (e) => errors.push(e), { intervalMs: 3_600_000, onCheckpoint: (_frames, n) => copied.push(n) });
    expect(db.pragma('wal_autocheckpoint', { simple: true })).to.equal(BACKSTOP_PAGES);
    const before = fileSize();
    // Past SQLite's own threshold: without the thread a commit would have copied the WAL by now.
    write(WAL_AUTOCHECKPOINT_PAGES * 2);
    expect(fileSize()).to.equal(before);
    await thread.close();

    // Now with the thread checking often: the pages reach the database file without a commit copying them.
    thread = new DatabaseThread(db, stores.renderedFiles, (e) => errors.push(e), { intervalMs: 20, onCheckpoint: (_frames, n) => copied.push(n) });
    await until(() => copied.length > 0);
    expect(copied[0]).to.be.at.least(WAL_AUTOCHECKPOINT_PAGES * 2);
    expect(fileSize()).to.be.at.least(before + WAL_AUTOCHECKPOINT_PAGES * 2 * PAGE);
    expect(errors).to.deep.equal([]);
    await thread.close();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).to.equal(WAL_AUTOCHECKPOINT_PAGES);
  });

  it('leaves checkpoints to the main connection when told to (the fetch-log thread checkpoints)', async () => {
    thread = new DatabaseThread(db, stores.renderedFiles, (e) => errors.push(e), { checkpoints: false, intervalMs: 20 });
    expect(db.pragma('wal_autocheckpoint', { simple: true })).to.equal(WAL_AUTOCHECKPOINT_PAGES);
  });

  it('writes stored renders: found while in flight, in the table once synced, a stale one discarded', async () => {
    const stored = new StoredRenders(stores.renderedFiles, 3_600_000, 256, (e) => errors.push(e as Error));
    thread = new DatabaseThread(db, stores.renderedFiles, (e) => errors.push(e), { intervalMs: 3_600_000 });
    stored.useSink(thread);
    stored.save(render(1));
    stored.flush();
    // Handed over, maybe not committed yet: still served from memory, never a miss.
    expect(stored.find(MAC, 'device', 1, 's1')?.body.toString()).to.equal('render of version 1');
    stored.sync();
    expect(stores.renderedFiles.get(MAC, 'device')?.body.toString()).to.equal('render of version 1');
    expect(stored.stats).to.deep.equal({ written: 1, discarded: 0 });

    // The device changes while a render of its old version is on its way: the thread does not store it.
    stored.save(render(1, 'old'));
    stores.devices.bumpVersion(MAC, 2000);
    stored.flush();
    stored.sync();
    expect(stores.renderedFiles.get(MAC, 'device')?.body.toString()).to.equal('render of version 1');
    expect(stored.stats).to.deep.equal({ written: 1, discarded: 1 });
    expect(errors).to.deep.equal([]);
  });

  it('stores the very bytes of each render, text or not', async () => {
    const stored = new StoredRenders(stores.renderedFiles, 3_600_000, 256, (e) => errors.push(e as Error));
    thread = new DatabaseThread(db, stores.renderedFiles, (e) => errors.push(e), { intervalMs: 3_600_000 });
    stored.useSink(thread);
    for (const body of [Buffer.from('label = Zürich ☎ 𝄞\n'), Buffer.from([0xf0, 0x9f, 0x98, 0x41, 0x00, 0xff])]) {
      stored.save({ ...render(1), body });
      stored.sync();
      expect(stores.renderedFiles.get(MAC, 'device')?.body.equals(body)).to.equal(true);
    }
    expect(errors).to.deep.equal([]);
  });

  it('when the thread cannot run, the main connection checkpoints again, writes what was handed over, and the failure is reported', async () => {
    const stored = new StoredRenders(stores.renderedFiles, 3_600_000, 256, (e) => errors.push(e as Error));
    thread = new DatabaseThread(db, stores.renderedFiles, (e) => errors.push(e), { driver: join(dir, 'no-such-driver.js') });
    stored.useSink(thread);
    stored.save(render(1));
    stored.flush(); // handed to a thread that is about to fail
    await until(() => !thread!.running);
    expect(errors.map((e) => e.message).join(' ')).to.match(/no-such-driver/);
    expect(stores.renderedFiles.get(MAC, 'device')?.body.toString()).to.equal('render of version 1');
    expect(stored.stats.written).to.equal(1);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).to.equal(WAL_AUTOCHECKPOINT_PAGES);
    const before = fileSize();
    write(WAL_AUTOCHECKPOINT_PAGES * 2);
    expect(fileSize()).to.be.above(before);
  });
});
