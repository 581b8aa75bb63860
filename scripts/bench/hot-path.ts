/**
 * CPU cost of the phone hot path without HTTP: ProvisioningService.handle in-process over a
 * seeded temp database, measured in CPU time (process.cpuUsage), so it is steadier than wall
 * time on a shared machine. Use it to compare changes to the hot path; `--cpu-prof` for where.
 *
 *   npx tsx scripts/bench/hot-path.ts [--devices 10000] [--rounds 3]
 *   node --cpu-prof --import tsx scripts/bench/hot-path.ts
 */
import { Command } from 'commander';
import { positiveInt } from './lib/args.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../db/index.js';
import { parseConfig } from '../../server/config.js';
import { createContext } from '../../server/context.js';
import { systemClock } from '../../server/services/clock.js';
import { createLogger } from '../../server/log.js';
import { seedDatabase } from './lib/seed.js';
import { round, table, writeResult } from './lib/stats.js';

const opts = new Command()
  .option('--devices <n>', 'devices seeded', positiveInt, 10_000)
  .option('--rounds <n>', 'cached rounds over every boot sequence', (v) => Number(v), 3)
  .parse()
  .opts<{ devices: number; rounds: number }>();

const dir = mkdtempSync(join(tmpdir(), 'deskprov-bench-hot-'));
try {
  const dbPath = join(dir, 'deskprov.db');
  const { phones } = seedDatabase(dbPath, opts.devices);
  const config = parseConfig({ database: { path: dbPath }, log: { level: 'silent' } }, {});
  const db = openDatabase(dbPath);
  const ctx = createContext({ config, db, clock: systemClock, log: createLogger('silent'), templateDir: null });
  const req = (name: string, ua: string) => ({ method: 'GET', name, ip: '127.0.0.1', userAgent: ua, ifNoneMatch: null, authorization: null, tls: null });
  const measure = (run: () => number, on = ctx) => {
    const c0 = process.cpuUsage();
    const n = run();
    on.recorder.flush();
    const c = process.cpuUsage(c0);
    const us = (c.user + c.system) / n;
    return { requests: n, usPerRequest: round(us), perCoreSecond: Math.round(1e6 / us) };
  };
  const firstFetch = measure(() => {
    for (const p of phones) ctx.provisioning.handle(req(p.config, p.ua));
    return phones.length;
  });
  // Through the store, as every change does, so its caches see the bump.
  ctx.stores.tx(() => ctx.stores.devices.bumpVersions(phones.map((p) => p.mac), Date.now()));
  const rerender = measure(() => {
    for (const p of phones) ctx.provisioning.handle(req(p.config, p.ua));
    return phones.length;
  });
  const cached = measure(() => {
    let n = 0;
    for (let r = 0; r < opts.rounds; r++) for (const p of phones) for (const f of p.boot) (ctx.provisioning.handle(req(f, p.ua)), n++);
    return n;
  });
  // A freshly started process over the same database: every config comes from its stored render.
  ctx.storedRenders.flush();
  const fresh = createContext({ config, db, clock: systemClock, log: createLogger('silent'), templateDir: null });
  const stored = measure(() => {
    for (const p of phones) fresh.provisioning.handle(req(p.config, p.ua));
    return phones.length;
  }, fresh);
  if (fresh.renderer.stats.stored !== phones.length) throw new Error(`expected ${phones.length} stored renders served, got ${fresh.renderer.stats.stored}`);
  const rows = [
    ['first fetch (cold process, render)', firstFetch],
    ['first fetch (fresh process, stored render)', stored],
    ['render again (warm process, version bumped)', rerender],
    ['boot sequences from cache (incl. 404 probes)', cached],
  ] as const;
  console.log(`ProvisioningService.handle, ${opts.devices.toLocaleString('en-US')} devices, CPU time, no HTTP`);
  console.log(table(['case', 'requests', 'us CPU / request', 'per core-second'], rows.map(([name, r]) => [name, r.requests, r.usPerRequest, r.perCoreSecond])));
  const file = writeResult('hot-path', { command: `npx tsx scripts/bench/hot-path.ts ${process.argv.slice(2).join(' ')}`.trim(), devices: opts.devices, firstFetch, storedFirstFetch: stored, rerender, cached });
  console.log(`\nwrote ${file}`);
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
