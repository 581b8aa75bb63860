/**
 * WAL checkpoints off the event loop (server/services/wal-checkpointer.ts): while the thread runs,
 * the main connection commits without copying the WAL back into the database file, and the
 * thread does it; if the thread fails, the main connection checkpoints again.
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, WAL_AUTOCHECKPOINT_PAGES, type Db } from '../../db/index.js';
import { BACKSTOP_PAGES, WalCheckpointer } from '../../server/services/wal-checkpointer.js';

const PAGE = 4096;

describe('WAL checkpoint thread', () => {
  let dir: string;
  let db: Db;
  let path: string;
  let checkpointer: WalCheckpointer | null = null;
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

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'deskprov-ckpt-'));
    path = join(dir, 'deskprov.db');
    db = openDatabase(path);
    db.exec('CREATE TABLE scratch (id INTEGER PRIMARY KEY, body BLOB NOT NULL) STRICT');
    db.pragma('wal_checkpoint(TRUNCATE)');
  });
  afterEach(async () => {
    await checkpointer?.close();
    checkpointer = null;
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes the checkpoints: commits leave the database file alone until the thread copies the WAL', async () => {
    const copied: number[] = [];
    const errors: Error[] = [];
    checkpointer = new WalCheckpointer(db, (e) => errors.push(e), { intervalMs: 3_600_000, onCheckpoint: (_frames, n) => copied.push(n) });
    expect(db.pragma('wal_autocheckpoint', { simple: true })).to.equal(BACKSTOP_PAGES);
    const before = fileSize();
    // Past SQLite's own threshold: without the thread a commit would have copied the WAL by now.
    write(WAL_AUTOCHECKPOINT_PAGES * 2);
    expect(fileSize()).to.equal(before);
    await checkpointer.close();

    // Now with the thread checking often: the pages reach the database file without a commit copying them.
    checkpointer = new WalCheckpointer(db, (e) => errors.push(e), { intervalMs: 20, onCheckpoint: (_frames, n) => copied.push(n) });
    await until(() => copied.length > 0);
    expect(copied[0]).to.be.at.least(WAL_AUTOCHECKPOINT_PAGES * 2);
    expect(fileSize()).to.be.at.least(before + WAL_AUTOCHECKPOINT_PAGES * 2 * PAGE);
    expect(errors).to.deep.equal([]);
    await checkpointer.close();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).to.equal(WAL_AUTOCHECKPOINT_PAGES);
  });

  it('when the thread cannot run, the main connection checkpoints again and the failure is reported', async () => {
    const errors: Error[] = [];
    checkpointer = new WalCheckpointer(db, (e) => errors.push(e), { driver: join(dir, 'no-such-driver.js') });
    await until(() => !checkpointer!.running);
    expect(errors.map((e) => e.message).join(' ')).to.match(/no-such-driver/);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).to.equal(WAL_AUTOCHECKPOINT_PAGES);
    const before = fileSize();
    write(WAL_AUTOCHECKPOINT_PAGES * 2);
    expect(fileSize()).to.be.above(before);
  });
});
