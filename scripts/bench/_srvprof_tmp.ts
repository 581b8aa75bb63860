import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad } from './lib/load.js';
import { seedDatabase } from './lib/seed.js';
import { startDeskprov } from './lib/server.js';
const dir = mkdtempSync(join(tmpdir(), 'perfeng-'));
const dbPath = join(dir, 'd.db');
const { phones } = seedDatabase(dbPath, Number(process.env.N ?? 4000));
const s = await startDeskprov({ dir, dbPath, nodeArgs: process.env.PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROF}`] : [] });
const origin = `http://127.0.0.1:${s.port}`;
const u = await runLoad({ mode: 'once', origin, phones: phones.map((p) => ({ ua: p.ua, paths: [p.config] })), expected: null, connections: 64, durationMs: 0, warmupMs: 0, saveDir: null }, 2);
console.log('uncached', u.reqPerSec, u.p99, u.errors);
if (!process.env.ONLY_UNCACHED) {
  const l = await runLoad({ mode: 'loop', origin, phones: phones.map((p) => ({ ua: p.ua, paths: p.boot })), expected: null, connections: 64, durationMs: 5000, warmupMs: 1000, saveDir: null }, 2);
  console.log('cached', l.reqPerSec, l.p99, l.errors, l.statuses);
}
console.log('exit', await s.stop());
