/**
 * Memory of a deskprov process with many devices, after every device's files were fetched once
 * (the render cache is full up to its byte bound).
 *
 *   npx tsx scripts/bench/memory.ts [--sizes 10000,100000]
 *
 * For each size: seed a temp database, start deskprov (as `npm start` does: its build, with its flags), fetch
 * each device's rendered files once (64 in flight), let it settle, then read RSS from /proc and
 * heap, render cache size and entries from its own GET /metrics, and time the dashboard's fleet
 * summary (GET /api/v1/devices/summary, median of 3). Writes bench-results/memory.json.
 */
import { Command } from 'commander';
import { positiveNumber } from './lib/args.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad } from './lib/load.js';
import { seedDatabase } from './lib/seed.js';
import { BENCH_ADMIN_TOKEN, START_NODE_ARGS, startDeskprov, waitUntilReady } from './lib/server.js';
import { round, table, writeResult } from './lib/stats.js';

const opts = new Command()
  .description('RSS and heap of deskprov at 10,000 and 100,000 devices with a full render cache')
  .option('--sizes <list>', 'comma-separated device counts', '10000,100000')
  .option('--limit-mb <n>', 'RSS target to judge against', positiveNumber, 250)
  .option('--node-args <args>', 'node flags for deskprov (default: the ones npm start uses)', START_NODE_ARGS.join(' '))
  .option('--fetch-log-thread <on|off>', 'provisioning.fetchLogThread (default: as deskprov defaults it)')
  .parse()
  .opts<{ sizes: string; limitMb: number; nodeArgs: string; fetchLogThread?: string }>();
if (opts.fetchLogThread !== undefined && !['on', 'off'].includes(opts.fetchLogThread)) throw new Error('--fetch-log-thread: expected on or off');
const fetchLogThread = opts.fetchLogThread === undefined ? undefined : opts.fetchLogThread === 'on';

/** Files that render (the 404-by-design probes are left out). */
const renders = (f: string) => !/\.boot$|-phone\.cfg$|-directory\.xml$|^000000000000\.cfg$/.test(f);

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : NaN;
}

/** Milliseconds for the dashboard's fleet summary, median of 3 (each a whole pass over the devices). */
async function summaryMs(port: number, devices: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/devices/summary`, { headers: { Authorization: `Bearer ${BENCH_ADMIN_TOKEN}` } });
    const body = (await res.json()) as { total?: number };
    times.push(performance.now() - started);
    if (res.status !== 200 || body.total !== devices) throw new Error(`device summary: HTTP ${res.status}, total ${body.total}, expected ${devices}`);
  }
  return round(times.sort((a, b) => a - b)[1]!);
}

interface Row {
  devices: number;
  files: number;
  fetchSeconds: number;
  rssIdleMb: number;
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  cacheEntries: number;
  cacheMb: number;
  summaryMs: number;
  withinTarget: boolean;
}

const rows: Row[] = [];
for (const size of opts.sizes.split(',').map((s) => Number(s.trim()))) {
  const dir = mkdtempSync(join(tmpdir(), 'deskprov-bench-mem-'));
  try {
    const dbPath = join(dir, 'deskprov.db');
    console.log(`seeding ${size.toLocaleString('en-US')} devices ...`);
    const { phones } = seedDatabase(dbPath, size);
    const server = await startDeskprov({ dir, dbPath, nodeArgs: opts.nodeArgs.split(' ').filter(Boolean), ...(fetchLogThread === undefined ? {} : { fetchLogThread }) });
    try {
      // The start-up pre-render stores every device's files (it must not hold them in memory).
      const prerenderSeconds = await waitUntilReady(server.port);
      console.log(`pre-rendered ${size.toLocaleString('en-US')} devices in ${prerenderSeconds} s, RSS ${round(server.memory().rssMb)} MB`);
      const rssIdleMb = server.memory().rssMb;
      const load = await runLoad({
        mode: 'once', origin: `http://127.0.0.1:${server.port}`,
        phones: phones.map((p) => ({ ua: p.ua, paths: p.boot.filter(renders) })),
        expected: null, connections: 64, durationMs: 0, warmupMs: 0, saveDir: null,
      }, 2);
      if (load.errors > 0) console.warn(`errors: ${load.errors} (${load.errorSamples.join('; ')})`);
      await new Promise((r) => setTimeout(r, 10_000));
      const row: Row = {
        devices: size,
        files: load.requests,
        fetchSeconds: load.seconds,
        rssIdleMb: round(rssIdleMb),
        rssMb: round(server.memory().rssMb),
        heapUsedMb: round((await metric(server.port, 'deskprov_nodejs_heap_size_used_bytes')) / 2 ** 20),
        heapTotalMb: round((await metric(server.port, 'deskprov_nodejs_heap_size_total_bytes')) / 2 ** 20),
        cacheEntries: await metric(server.port, 'deskprov_render_cache_entries'),
        cacheMb: round((await metric(server.port, 'deskprov_render_cache_bytes')) / 2 ** 20),
        // After RSS is read: what the summary allocates is not counted as the fleet's.
        summaryMs: 0,
        withinTarget: false,
      };
      row.withinTarget = row.rssMb <= opts.limitMb;
      row.summaryMs = await summaryMs(server.port, size);
      rows.push(row);
      console.log(`${size}: RSS ${row.rssMb} MB, heap ${row.heapUsedMb} MB, cache ${row.cacheEntries} files / ${row.cacheMb} MB`);
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`\ndeskprov memory after every device's files were fetched once (target RSS <= ${opts.limitMb} MB)`);
console.log(table(['devices', 'files', 'fetch s', 'RSS idle MB', 'RSS MB', 'heap used MB', 'heap total MB', 'cached files', 'cache MB', 'ok', 'summary ms'],
  rows.map((r) => [r.devices, r.files, r.fetchSeconds, r.rssIdleMb, r.rssMb, r.heapUsedMb, r.heapTotalMb, r.cacheEntries, r.cacheMb, r.withinTarget ? 'yes' : 'NO', r.summaryMs])));
const file = writeResult('memory', { command: `npx tsx scripts/bench/memory.ts ${process.argv.slice(2).join(' ')}`.trim(), nodeArgs: opts.nodeArgs, fetchLogThread: opts.fetchLogThread ?? 'default', targetRssMb: opts.limitMb, rows });
console.log(`\nwrote ${file}`);
