/**
 * What writing the fetch log costs per phone request, on an empty log and on a full one (every
 * device at its 200-row cap, so each batch also trims): one record per request through the
 * FetchRecorder into a real SQLite file, in CPU time (process.cpuUsage), batched as the server
 * batches them. A long-running server pays the full-log figure; a fresh benchmark database the
 * empty-log one.
 *
 *   npx tsx scripts/bench/fetch-log.ts [--devices 10000] [--rounds 300]
 *
 * Each round is one request from every device (a boot-sequence file, every third round its
 * config), in the same order every round, like phones polling. A device's log is trimmed once it
 * has grown by 50 rows, so these phones trim together every 50th round; the full-log figure is the
 * mean of the last 50 rounds (one trim in it), and --rounds below 250 never fills the log.
 */
import { Command } from 'commander';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../db/index.js';
import { createStores } from '../../db/stores/index.js';
import type { Mac } from '../../server/domain/mac.js';
import { FetchRecorder } from '../../server/services/fetch-recorder.js';
import { positiveInt } from './lib/args.js';
import { seedDatabase } from './lib/seed.js';
import { round, table, writeResult } from './lib/stats.js';
import { setImmediate as nextTurn } from 'node:timers/promises';

const opts = new Command()
  .description('fetch log cost per phone request, empty log vs full log')
  .option('--devices <n>', 'devices', positiveInt, 10_000)
  .option('--rounds <n>', 'rounds of one request per device (the log is full after about 250)', positiveInt, 300)
  .parse()
  .opts<{ devices: number; rounds: number }>();

const dir = mkdtempSync(join(tmpdir(), 'deskprov-bench-fetchlog-'));
try {
  const dbPath = join(dir, 'deskprov.db');
  const { phones } = seedDatabase(dbPath, opts.devices, 1000);
  const db = openDatabase(dbPath);
  const stores = createStores(db);
  const recorder = new FetchRecorder(stores.devices, 250, 2000, (err) => console.error(err));
  const perRound: number[] = [];
  const mean = (xs: number[]) => (xs.length ? round(xs.reduce((a, b) => a + b, 0) / xs.length, 1) : NaN);
  const started = Date.now();
  for (let r = 0; r < opts.rounds; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < phones.length; i++) {
      const p = phones[i]!;
      const config = r % 3 === 1;
      recorder.record({
        mac: p.mac as Mac, at: 1_700_000_000_000 + r * 60_000 + i, ip: '10.20.30.40', userAgent: p.ua, model: p.model,
        firmware: null, file: config ? p.config : p.boot[0]!, status: 200,
        configVersion: config ? 1 : null, lineUser: config ? '1001' : null, extension: config ? '1001' : null,
      });
      // As in the server: requests arrive over time and the recorder's timer writes its batches.
      if (i % 500 === 499) await nextTurn();
    }
    recorder.flush();
    const c = process.cpuUsage(c0);
    perRound.push((c.user + c.system) / phones.length);
    if (r % 50 === 49) console.log(`rounds ${r - 48}-${r + 1}: ${mean(perRound.slice(r - 49))} µs/record (${Math.round((Date.now() - started) / 1000)} s)`);
  }
  await recorder.close();
  const rows = db.prepare<[], number>('SELECT count(*) FROM fetch_log').pluck().get() ?? 0;
  const empty = mean(perRound.slice(0, 10));
  // Phones in lockstep trim together every 50th round (PRUNE_EVERY): a window of 50 rounds holds one trim each.
  const fullFrom = Math.max(0, opts.rounds - 50);
  const full = mean(perRound.slice(fullFrom));
  const fileMb = round(statSync(dbPath).size / 1e6, 1);
  console.log(`\nFetch log, ${opts.devices.toLocaleString('en-US')} devices, CPU time per record (batches of up to 2,000)`);
  console.log(table(['log', 'rounds', 'µs CPU / record', 'records / core-second'], [
    ['empty (rounds 1-10)', Math.min(10, opts.rounds), empty, Math.round(1e6 / empty)],
    [`full: 200 rows a device, trimming (rounds ${fullFrom + 1}-${opts.rounds})`, opts.rounds - fullFrom, full, Math.round(1e6 / full)],
  ]));
  console.log(`rows at the end: ${rows.toLocaleString('en-US')}; database file ${fileMb} MB`);
  const file = writeResult('fetch-log', { command: `npx tsx scripts/bench/fetch-log.ts ${process.argv.slice(2).join(' ')}`.trim(), devices: opts.devices, rounds: opts.rounds, emptyUsPerRecord: empty, fullUsPerRecord: full, fullFromRound: fullFrom + 1, rows, fileMb, perRound: perRound.map((x) => round(x, 1)) });
  console.log(`\nwrote ${file}`);
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
