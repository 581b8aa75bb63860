/**
 * What WAL checkpoints add to the fetch log's commits on the main thread: fetch records written
 * as the default writer writes them under load (SlicedFetchWriter, 128 to a commit), for devices in
 * random order, into a real SQLite file whose log already holds 20 rows a device, at several
 * `wal_autocheckpoint` settings (deskprov's is SQLite's default, 1,000: db/index.ts says why).
 * Wall time is what the event loop waits (a checkpoint's copy and fsync included); the longest
 * commit is the one that checkpointed. `thread`: the database thread deskprov runs by default
 * (database.backgroundThread, server/services/database-thread.ts) checkpoints instead.
 *
 *   npx tsx scripts/bench/checkpoints.ts [--devices 10000] [--rows 15000] [--pages 1000,10000,0,thread] [--repeat 3]
 */
import { Command } from 'commander';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../db/index.js';
import { DatabaseThread } from '../../server/services/database-thread.js';
import type { FetchRecord } from '../../db/stores/devices.js';
import { createStores } from '../../db/stores/index.js';
import type { Mac } from '../../server/domain/mac.js';
import { positiveInt } from './lib/args.js';
import { seedDatabase } from './lib/seed.js';
import { round, table, writeResult } from './lib/stats.js';

const opts = new Command()
  .description('event-loop time per fetch-log row, 128 rows a commit, by wal_autocheckpoint')
  .option('--devices <n>', 'devices seeded', positiveInt, 10_000)
  .option('--rows <n>', 'rows written per measurement', positiveInt, 15_000)
  .option('--pages <list>', 'wal_autocheckpoint settings (0: never; thread: the database thread)', '1000,10000,0,thread')
  .option('--repeat <n>', 'measurements per setting, alternating', positiveInt, 3)
  .parse()
  .opts<{ devices: number; rows: number; pages: string; repeat: number }>();
const SLICE = 128;
/** A wal_autocheckpoint setting, or -1: the database thread. */
const THREAD = -1;
const settings = opts.pages.split(',').map((p) => {
  if (p.trim() === 'thread') return THREAD;
  const n = Number(p.trim());
  if (!Number.isInteger(n) || n < 0) throw new Error(`--pages: not a page count: ${p}`);
  return n;
});

const dir = mkdtempSync(join(tmpdir(), 'deskprov-bench-ckpt-'));
try {
  const dbPath = join(dir, 'deskprov.db');
  const { phones } = seedDatabase(dbPath, opts.devices);
  const db = openDatabase(dbPath);
  const stores = createStores(db);
  const devices = stores.devices;
  let at = Date.now();
  const record = (i: number): FetchRecord => {
    const p = phones[i % phones.length]!;
    return { mac: p.mac as Mac, at: at++, ip: '10.20.30.40', userAgent: p.ua, model: p.model, firmware: null, file: p.config, status: 200, configVersion: 1, lineUser: null, extension: null };
  };
  // A log with history: 20 rows a device.
  for (let r = 0; r < 20; r++) devices.recordFetches(phones.map((_, i) => record(i)));
  let k = 0;
  const measure = async (pages: number) => {
    db.pragma('wal_checkpoint(TRUNCATE)');
    const thread = pages === THREAD ? new DatabaseThread(db, stores.renderedFiles, (err) => console.warn(err.message)) : null;
    if (!thread) db.pragma(`wal_autocheckpoint = ${pages}`);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let longest = 0;
    for (let done = 0; done < opts.rows; done += SLICE) {
      const batch: FetchRecord[] = [];
      for (let i = 0; i < SLICE; i++) batch.push(record((k++ * 7919) % phones.length));
      const s = performance.now();
      devices.recordFetches(batch);
      longest = Math.max(longest, performance.now() - s);
    }
    const c = process.cpuUsage(c0);
    // The WAL file as the burst left it (the database thread's PASSIVE checkpoints never restart it under writes back to back).
    const walMb = statSync(`${dbPath}-wal`).size / 2 ** 20;
    await thread?.close();
    return { walMb, wallUs: (1000 * (performance.now() - t0)) / opts.rows, cpuUs: (c.user + c.system) / opts.rows, longestMs: longest };
  };
  type Measured = Awaited<ReturnType<typeof measure>>;
  const results = new Map<number, Measured[]>(settings.map((s) => [s, []]));
  for (let r = 0; r < opts.repeat; r++) for (const s of settings) results.get(s)!.push(await measure(s));
  db.close();
  const rows = settings.map((s) => {
    const m = results.get(s)!;
    const span = (f: (x: Measured) => number, digits = 1) => `${round(Math.min(...m.map(f)), digits)}-${round(Math.max(...m.map(f)), digits)}`;
    return { pages: s, wallUs: span((x) => x.wallUs), cpuUs: span((x) => x.cpuUs), longestMs: span((x) => x.longestMs), walMb: span((x) => x.walMb) };
  });
  console.log(`Fetch-log rows, ${SLICE} to a commit, ${opts.devices.toLocaleString('en-US')} devices in random order, ${opts.rows.toLocaleString('en-US')} rows a measurement, ${opts.repeat} each (min-max)`);
  console.log(table(['wal_autocheckpoint', 'event loop us / row', 'CPU us / row', 'longest commit ms', 'WAL file MB'], rows.map((r) => [r.pages === 0 ? '0 (never)' : r.pages === THREAD ? 'thread' : r.pages, r.wallUs, r.cpuUs, r.longestMs, r.walMb])));
  const file = writeResult('checkpoints', { command: `npx tsx scripts/bench/checkpoints.ts ${process.argv.slice(2).join(' ')}`.trim(), devices: opts.devices, rowsPerMeasurement: opts.rows, slice: SLICE, rows });
  console.log(`\nwrote ${file}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
