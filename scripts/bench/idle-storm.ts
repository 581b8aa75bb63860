/**
 * A boot storm on a deskprov that sat idle, with sets of Node flags taken in turn: which flags
 * make the storm that comes after a quiet spell (a switch reboot, a firmware push) cheaper.
 *
 *   npx tsx scripts/bench/idle-storm.ts [--devices 10000] [--storm 5000] [--idle 60] [--runs 3]
 *       [--flags "<node flags>" ...]
 *
 * Each run takes every flag set in turn (default: `npm start`'s, and the same without
 * --no-memory-reducer): start deskprov with them and one phone worker, wait until ready, storm it
 * once (its caches and code warm, as after a day of phones), wait `--idle` seconds, storm nginx
 * (the same files pre-rendered, the run's yardstick), then storm deskprov again and measure that
 * storm: seconds, p99, errors and the CPU its processes used. Prints a table (medians at the end)
 * and writes bench-results/idle-storm.json.
 */
import { Command } from 'commander';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { positiveInt } from './lib/args.js';
import { runLoad } from './lib/load.js';
import { startNginx } from './lib/nginx.js';
import { treeCpuMs } from './lib/kernel.js';
import { seedDatabase } from './lib/seed.js';
import { START_NODE_ARGS, startDeskprov, waitUntilReady, waitUntilWritten } from './lib/server.js';
import { round, table, writeResult } from './lib/stats.js';

const collect = (v: string, all: string[]) => [...all, v];
const opts = new Command()
  .description('a boot storm on a deskprov that sat idle, with sets of Node flags in turn')
  .option('--devices <n>', 'devices seeded', positiveInt, 10_000)
  .option('--storm <n>', 'phones booting at once', positiveInt, 5_000)
  .option('--idle <seconds>', 'quiet time before the measured storm', positiveInt, 60)
  .option('--runs <n>', 'rounds over the flag sets', positiveInt, 3)
  .option('--flags <flags>', 'a set of node flags (repeat for more sets)', collect, [] as string[])
  .parse()
  .opts<{ devices: number; storm: number; idle: number; runs: number; flags: string[] }>();

const sets = opts.flags.length > 0 ? opts.flags : [START_NODE_ARGS.join(' '), START_NODE_ARGS.filter((f) => f !== '--no-memory-reducer').join(' ')];
const dir = mkdtempSync(join(tmpdir(), 'deskprov-bench-idle-'));
const dbPath = join(dir, 'deskprov.db');
const root = join(dir, 'www');
mkdirSync(root);

const origin = (port: number) => `http://127.0.0.1:${port}`;

async function main(): Promise<void> {
  console.log(`seeding ${opts.devices.toLocaleString('en-US')} devices in ${dir} ...`);
  const { phones } = seedDatabase(dbPath, opts.devices);
  // The files for nginx, and every answer's status (the storm checks each one).
  let s = await startDeskprov({ dir, dbPath, workers: 1 });
  await waitUntilReady(s.port);
  const uniq = (xs: string[]) => [...new Set(xs)];
  const saved = await runLoad({ mode: 'once', origin: origin(s.port), phones: phones.map((p) => ({ ua: p.ua, paths: uniq([...p.boot, ...p.storm, p.config]) })), expected: null, connections: 64, durationMs: 0, warmupMs: 0, saveDir: root }, 2);
  const port = s.port; // the same port, so the same baseUrl: the stored renders stay current
  await s.stop();
  const nginx = await startNginx(join(dir, 'nginx'), root);
  const stormPhones = phones.slice(0, opts.storm).map((p) => ({ ua: p.ua, paths: p.storm }));
  const storm = (p: number) => runLoad({ mode: 'storm', origin: origin(p), phones: stormPhones, expected: saved.seen, connections: 0, durationMs: 0, warmupMs: 0, saveDir: null }, 2);

  const rows: Array<{ run: number; flags: string; nginxSeconds: number; seconds: number; xNginx: number; p99: number; errors: number; cpuMs: number }> = [];
  try {
    for (let run = 1; run <= opts.runs; run++) {
      for (const flags of sets) {
        s = await startDeskprov({ dir, dbPath, port, workers: 1, nodeArgs: flags.split(/\s+/).filter(Boolean) });
        await waitUntilReady(s.port);
        await storm(s.port);
        await waitUntilWritten(s.port);
        await new Promise((r) => setTimeout(r, opts.idle * 1000));
        const n = await storm(nginx.port);
        const before = treeCpuMs(s.pid);
        const r = await storm(s.port);
        const cpu = treeCpuMs(s.pid) - before;
        await waitUntilWritten(s.port);
        await s.stop();
        const row = { run, flags, nginxSeconds: n.seconds, seconds: r.seconds, xNginx: round(r.seconds / n.seconds, 2), p99: r.p99, errors: r.errors, cpuMs: cpu };
        rows.push(row);
        console.log(`run ${run} [${flags}]: ${r.seconds} s (nginx ${n.seconds} s, x${row.xNginx}), p99 ${r.p99} ms, errors ${r.errors}, CPU ${cpu} ms`);
      }
    }
  } finally {
    await s.stop();
    await nginx.stop();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  console.log(`\nStorm of ${opts.storm.toLocaleString('en-US')} phones after ${opts.idle} s idle, one phone worker; each run's own nginx storm as the yardstick`);
  console.log(table(['run', 'flags', 'seconds', 'x nginx', 'p99 ms', 'errors', 'CPU ms'], rows.map((r) => [r.run, r.flags, r.seconds, r.xNginx, r.p99, r.errors, r.cpuMs])));
  console.log(`\n${table(['flags', 'median x nginx', 'median CPU ms'], sets.map((f) => { const of = rows.filter((r) => r.flags === f); return [f, median(of.map((r) => r.xNginx)), median(of.map((r) => r.cpuMs))]; }))}`);
  const file = writeResult('idle-storm', { command: `npx tsx scripts/bench/idle-storm.ts ${process.argv.slice(2).join(' ')}`.trim(), devices: opts.devices, stormPhones: opts.storm, idleSeconds: opts.idle, flagSets: sets, rows });
  console.log(`\nwrote ${file}`);
}

main()
  .then(() => rmSync(dir, { recursive: true, force: true }))
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
