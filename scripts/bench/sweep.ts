/**
 * Benchmark: 100,000 hot-desk sessions expire at once; how long does the sweep take to end
 * them all and queue their resyncs? Seeds a temp SQLite file (WAL, as in production), builds the
 * production service graph (createContext: real audit log, change tracker and outbox) with a
 * manual clock, runs the sweep, prints a table (with the longest batch: the longest the event loop
 * is blocked) and writes bench-results/sweep.json.
 *
 *   npx tsx scripts/bench/sweep.ts [--sessions 100000]
 */
import { Command } from 'commander';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../db/index.js';
import { parseConfig } from '../../server/config.js';
import { createContext } from '../../server/context.js';
import { createLogger } from '../../server/log.js';
import { ManualClock } from '../../server/services/clock.js';
import { SWEEP_BATCH } from '../../server/services/hotdesk.js';
import { positiveInt } from './lib/args.js';

const N = new Command()
  .description('the hot-desk sweep of many expiring sessions')
  .option('--sessions <n>', 'sessions that expire at once', positiveInt, 100_000)
  .parse()
  .opts<{ sessions: number }>().sessions;
const T0 = Date.UTC(2026, 0, 15, 8, 0, 0);
const HOUR = 3_600_000;

const dir = mkdtempSync(join(tmpdir(), 'deskprov-bench-sweep-'));
try {
  const db = openDatabase(join(dir, 'deskprov.db'));
  const config = parseConfig({ database: { path: join(dir, 'deskprov.db') }, log: { level: 'silent' } });
  const clock = new ManualClock(T0);
  const ctx = createContext({ config, db, clock, log: createLogger('silent'), templateDir: null });
  const { stores, hotdesk } = ctx;

  // Seed: N users, N hot-desk devices, one session each, all ending at T0 + 1h.
  const seedStart = performance.now();
  db.transaction(() => {
    const user = db.prepare(`INSERT INTO users (extension, display_name, sip_username, sip_password, created_at, updated_at)
      VALUES (?, ?, ?, 'secret', ?, ?)`);
    const device = db.prepare(`INSERT INTO devices (mac, vendor, hotdesk_enabled, created_at, updated_at)
      VALUES (?, 'yealink', 1, ?, ?)`);
    const session = db.prepare('INSERT INTO sessions (mac, extension, started_at, ends_at) VALUES (?, ?, ?, ?)');
    for (let i = 0; i < N; i++) {
      const ext = String(100_000 + i);
      const mac = (0x805ec0000000 + i).toString(16).padStart(12, '0');
      user.run(ext, `User ${ext}`, ext, T0, T0);
      device.run(mac, T0, T0);
      session.run(mac, ext, T0, T0 + HOUR);
    }
  })();
  const seedMs = performance.now() - seedStart;

  clock.advance(HOUR + 1);
  const sweepStart = performance.now();
  const cpuStart = process.cpuUsage();
  const { ended, batches, longestBatchMs } = await hotdesk.sweepReport();
  const sweepMs = performance.now() - sweepStart;
  const cpu = process.cpuUsage(cpuStart);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const outbox = stores.outbox.depth();
  const active = stores.sessions.countActive();
  const again = await hotdesk.sweep();
  db.close();

  const result = {
    bench: 'hotdesk-sweep',
    sessions: N,
    batch: SWEEP_BATCH,
    batches,
    ended,
    stillActive: active,
    resyncsQueued: outbox,
    secondSweepEnded: again,
    seedMs: Math.round(seedMs),
    sweepMs: Math.round(sweepMs),
    /** CPU time of this process during the sweep: the figure to trust on a busy machine. */
    sweepCpuMs: Math.round(cpuMs),
    /** The longest single transaction: how long phone requests can wait on the sweep. */
    longestBatchMs: Number(longestBatchMs.toFixed(1)),
    loadAverage: os.loadavg()[0] ?? 0,
    sessionsPerSecond: Math.round(ended / (sweepMs / 1000)),
    node: process.version,
    at: new Date().toISOString(),
  };
  console.log('\nhot-desk sweep benchmark');
  console.table({
    'sessions expiring': N,
    'sessions ended': ended,
    'resyncs queued (outbox)': outbox,
    'still active after sweep': active,
    'second sweep ended (idempotent)': again,
    'sweep time, wall (ms)': result.sweepMs,
    'sweep time, CPU (ms)': result.sweepCpuMs,
    [`batches (${SWEEP_BATCH} sessions each)`]: batches,
    'longest batch (ms)': result.longestBatchMs,
    'load average (1 min)': Number(result.loadAverage.toFixed(2)),
    'sessions / s': result.sessionsPerSecond,
  });
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/sweep.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log('written bench-results/sweep.json');
  if (ended !== N || outbox !== N || active !== 0 || again !== 0) {
    console.error('FAILED: the sweep did not end every session exactly once');
    process.exitCode = 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
