/**
 * Boot storm: deskprov against nginx serving the same pre-rendered files, on this machine.
 *
 *   npx tsx scripts/bench/boot-storm.ts [--devices 10000] [--storm 5000] [--duration 10] [--connections 64,1000]
 *     [--workers 1] [--fetch-log-thread] [--repeat-window 60s]
 *
 * deskprov runs with its defaults plus one phone worker (http.phoneWorkers 1, as for a machine
 * with a core to spare). --fetch-log-thread adds provisioning.fetchLogThread; --repeat-window
 * sets provisioning.fetchLogRepeatWindow ("0": a fetch-log row for every request, as wrk's
 * re-fetches of the same files would otherwise be counted on their first rows).
 * Seeds N devices (four vendors, owners, guests, locations) in a temp database, starts deskprov
 * (as `npm start` runs it: the build in dist/ with its flags, log level warn) and measures:
 *  1. first fetch: each device's config once over 64 keep-alive connections, through wrk (each
 *     path once, see lib/wrk.ts), from the stored renders (after the start-up pre-render) on the
 *     freshly started process for half the devices, and for the other half once the process has
 *     served ~20,000 other requests (the first half's boot files); also rendered on demand
 *     (provisioning.prerender false over a copy of the database without stored renders, with the
 *     same phone workers, which render too), and nginx serving the same configs;
 *  2. cached phone files: phones run their vendor's boot sequence with real User-Agents over C
 *     keep-alive connections (undici, worker threads), then wrk rotating over the 200-files, with
 *     node:http and deskprov's phone lane serving the same files from memory as ceilings for a Node
 *     server (lib/bare-node.ts);
 *  3. the storm: `--storm` phones start at the same instant, each on its own connection, 3 files each:
 *     against nginx, deskprov (the process of step 2, once its repeat windows have passed) and
 *     nginx again, back to back; then against a freshly started deskprov once it is ready, and
 *     against the phone lane alone as a floor for a Node server (its first storm on a fresh
 *     process, then a second). Each storm also reports
 *     the kernel's listen-queue overflows and SYN retransmits during it (lib/kernel.ts), the CPU
 *     the server's processes used, and the machine's idle and stolen time.
 * nginx (Debian's; bound to 127.0.0.1, temp prefix) serves the files deskprov rendered in step 1.
 * Before each measured run, every fetch record deskprov owes for the runs before is written
 * (deskprov_fetch_records_pending 0), so no run, deskprov's or another server's, pays for an earlier one.
 * The client runs on the same 2 cores as the server: the figures are a floor, and ratios to
 * nginx in the same run are the comparable number. Prints tables, writes bench-results/boot-storm.json.
 */
import { Command } from 'commander';
import { positiveInt } from './lib/args.js';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLoad, type LoadSummary } from './lib/load.js';
import { parseConfig } from '../../server/config.js';
import { parseDuration } from '../../server/domain/duration.js';
import { startBareNode } from './lib/bare-node.js';
import { machineCpuMs, somaxconn, tcpCounters, tcpSince, treeCpuMs, type TcpCounters } from './lib/kernel.js';
import { startNginx } from './lib/nginx.js';
import type { BenchPhone } from './lib/phones.js';
import { seedDatabase } from './lib/seed.js';
import { startDeskprov, treeRssMbOf, waitUntilReady, waitUntilWritten, type RunningServer } from './lib/server.js';
import { round, table, writeResult } from './lib/stats.js';
import { runWrk, runWrkOnce } from './lib/wrk.js';

/** Accept handles per process: deskprov's default (`http.acceptors`), and the ceiling server's. */
const DEFAULTS = parseConfig({}, {});
const ACCEPTORS = DEFAULTS.http.acceptors;

const opts = new Command()
  .description('deskprov vs nginx: cached files req/s, a boot storm and uncached first fetches')
  .option('--devices <n>', 'devices seeded', positiveInt, 10_000)
  .option('--storm <n>', 'phones booting at once', positiveInt, 5_000)
  .option('--duration <s>', 'seconds per req/s run (after 2 s warm-up)', positiveInt, 10)
  .option('--connections <list>', 'comma-separated connection counts', '64,1000')
  .option('--threads <n>', 'client worker threads', positiveInt, 2)
  .option('--workers <n>', 'deskprov http.phoneWorkers (extra processes answering phone files)', (v) => Number(v), 1)
  .option('--fetch-log-thread', 'write fetch records on a thread of their own (provisioning.fetchLogThread)', false)
  .option('--no-warm-up', 'start deskprov without its start-up warm-up (http.warmUp false)')
  .option('--repeat-window <duration>', 'provisioning.fetchLogRepeatWindow for deskprov ("0": a fetch-log row per request)')
  .option('--no-wrk', 'skip the wrk runs')
  .option('--keep', 'keep the temp directory')
  .parse()
  .opts<{ devices: number; storm: number; duration: number; connections: string; threads: number; workers: number; fetchLogThread: boolean; warmUp: boolean; repeatWindow?: string; wrk: boolean; keep?: boolean }>();
/** Config every deskprov of the run starts with. */
/**
 * The storm's phones are the ones step 2 just re-fetched, from the same address with the same
 * User-Agents: within provisioning.fetchLogRepeatWindow their fetches would be counted on step
 * 2's rows (server/services/fetch-folds.ts) instead of writing rows of their own. A real storm
 * comes after the phones were off for longer than that (a desk phone takes a minute or more to
 * boot), so the warm storm waits until the window has passed since deskprov's last run.
 */
const repeatWindow = opts.repeatWindow ?? DEFAULTS.provisioning.fetchLogRepeatWindow;
async function windowPassed(since: number): Promise<void> {
  const windowMs = parseDuration(repeatWindow) ?? 0;
  const left = since + windowMs + 1000 - Date.now();
  if (windowMs === 0 || left <= 0) return;
  console.log(`(waiting ${Math.ceil(left / 1000)} s before deskprov's storm: its repeat window since the cached-files runs, so every storm fetch writes its own row)`);
  await new Promise((r) => setTimeout(r, left));
}

const config: Record<string, unknown> = {
  ...(opts.warmUp ? {} : { http: { warmUp: false } }),
  ...(opts.repeatWindow !== undefined ? { provisioning: { fetchLogRepeatWindow: opts.repeatWindow } } : {}),
};
if (!Number.isInteger(opts.workers) || opts.workers < 0 || opts.workers > 64) throw new Error('--workers: expected 0–64');
const CONNECTIONS = opts.connections.split(',').map((c) => positiveInt(c.trim()));

const dir = mkdtempSync(join(tmpdir(), 'deskprov-bench-storm-'));
const dbPath = join(dir, 'deskprov.db');
const root = join(dir, 'www');
mkdirSync(root);
const stops: Array<() => Promise<unknown>> = [];

/** nginx's storm right after deskprov's warm one. */
const NGINX_AFTER = 'nginx, after deskprov';
/** ", 12 listen overflows, 12 SYN retransmits" when the storm had any, else nothing. */
const overflowNote = (t: TcpCounters | null) => (t && (t.listenOverflows || t.synRetransmits) ? `, ${t.listenOverflows} listen overflows, ${t.synRetransmits} SYN retransmits` : '');
const phonesFor = (list: BenchPhone[], pick: (p: BenchPhone) => string[]) => list.map((p) => ({ ua: p.ua, paths: pick(p) }));
const uniq = (xs: string[]) => [...new Set(xs)];

/**
 * CPU time the hypervisor gave to other guests while a storm ran, past which its time says more
 * about the host than about the server: 5% of the machine's cores for the storm's time.
 */
const stolen = (r: { seconds: number; machine: { stealMs: number } | null }) => r.machine !== null && r.machine.stealMs > r.seconds * 1000 * availableParallelism() * 0.05;

async function main(): Promise<void> {
  const runStart = machineCpuMs();
  console.log(`seeding ${opts.devices.toLocaleString('en-US')} devices in ${dir} ...`);
  const { phones, ms: seedMs } = seedDatabase(dbPath, opts.devices);
  console.log(`seeded in ${Math.round(seedMs)} ms`);

  // 1. First fetches: each device's config once, 64 connections, through wrk (a Node client
  // took about half of the 2 cores in this run). (a) Rendered on demand: no stored renders, no
  // pre-render; the same deskprov as the other runs (its phone workers render too), once ready.
  const origin = (port: number) => `http://127.0.0.1:${port}`;
  const configs = phones.map((p) => [p.config, p.ua] as [string, string]);
  const onDemandDb = join(dir, 'on-demand.db');
  copyFileSync(dbPath, onDemandDb);
  const plain = await startDeskprov({ dir, dbPath: onDemandDb, prerender: false, workers: opts.workers, fetchLogThread: opts.fetchLogThread, config });
  const onDemand = await waitUntilReady(plain.port)
    .then(() => runWrkOnce(dir, origin(plain.port), configs, 64, opts.threads))
    .finally(() => plain.stop());
  console.log(`first fetch, render on demand: ${onDemand.reqPerSec.toLocaleString('en-US')}/s (${onDemand.requests} files, p99 ${onDemand.p99} ms, errors ${onDemand.errors})`);
  // (b) From stored renders: the start-up pre-render first. The first half of the phones fetch
  // their configs on the freshly started process (JIT and caches cold); then the first half's
  // boot files are fetched and saved for nginx; then the other half, never seen by this process
  // (no device row or render of theirs in memory), fetch their configs on the warmed-up process.
  let deskprov: RunningServer = await startDeskprov({ dir, dbPath, workers: opts.workers, fetchLogThread: opts.fetchLogThread, config });
  stops.push(() => deskprov.stop());
  const readySeconds = await waitUntilReady(deskprov.port);
  console.log(`start-up until ready (pre-render of ${opts.devices.toLocaleString('en-US')} devices done, every worker accepting): ${readySeconds} s`);
  // Before each measured run: deskprov has written the fetch records of the runs before it.
  const settle = () => waitUntilWritten(deskprov.port);
  const half = Math.ceil(phones.length / 2);
  const fresh = await runWrkOnce(dir, origin(deskprov.port), configs.slice(0, half), 64, opts.threads);
  console.log(`first fetch, stored render, fresh process: ${fresh.reqPerSec.toLocaleString('en-US')}/s (${fresh.requests} files, p99 ${fresh.p99} ms, errors ${fresh.errors})`);
  // Every boot file (configs again, now cached); the 200s are written for nginx and the statuses become the expectation.
  const allPaths = (list: BenchPhone[]) => phonesFor(list, (p) => uniq([...p.boot, ...p.storm, p.config]));
  const saveAll = (list: BenchPhone[]) =>
    runLoad({ mode: 'once', origin: origin(deskprov.port), phones: allPaths(list), expected: null, connections: 64, durationMs: 0, warmupMs: 0, saveDir: root }, opts.threads);
  const firstHalf = await saveAll(phones.slice(0, half));
  await settle();
  const warm = await runWrkOnce(dir, origin(deskprov.port), configs.slice(half), 64, opts.threads);
  console.log(`first fetch, stored render, warmed-up process: ${warm.reqPerSec.toLocaleString('en-US')}/s (${warm.requests} files, p99 ${warm.p99} ms, errors ${warm.errors})`);
  const secondHalf = await saveAll(phones.slice(half));
  const expected: Record<string, number> = { ...firstHalf.seen, ...secondHalf.seen };
  const ok = Object.entries(expected).filter(([, s]) => s === 200).map(([p]) => p);
  const uaOf = new Map<string, string>();
  for (const p of phones) for (const f of [...p.boot, ...p.storm]) if (!uaOf.has(f)) uaOf.set(f, p.ua);
  console.log(`pre-rendered ${ok.length.toLocaleString('en-US')} files for nginx (${Object.values(expected).filter((s) => s === 404).length} paths answer 404 by design)`);

  const nginx = await startNginx(join(dir, 'nginx'), root);
  stops.push(() => nginx.stop());
  await settle();
  const nginxConfigs = await runWrkOnce(dir, origin(nginx.port), configs, 64, opts.threads);
  const nginxServer = { name: 'nginx', port: () => nginx.port, pid: () => nginx.pid };
  const deskprovServer = { name: 'deskprov', port: () => deskprov.port, pid: () => deskprov.pid };
  const servers = [nginxServer, deskprovServer];
  // wrk also measures ceilings for a Node server here (lib/bare-node.ts): the same files from
  // memory in as many processes as deskprov, each with as many accept handles, with nothing of
  // deskprov's own work: answered by node:http, and by deskprov's phone lane.
  const bare = opts.wrk ? await startBareNode(root, 1 + opts.workers, ACCEPTORS, 'node:http') : null;
  if (bare) stops.push(() => bare.stop()); // also on failure; stop() twice is harmless
  const bareLane = opts.wrk ? await startBareNode(root, 1 + opts.workers, ACCEPTORS, 'lane') : null;
  if (bareLane) stops.push(() => bareLane.stop());
  const wrkServers = bare && bareLane
    ? [...servers, { name: 'node:http', port: () => bare.port }, { name: 'lane only', port: () => bareLane.port }]
    : servers;

  // 2. Cached files: boot sequences over C keep-alive connections, then wrk.
  const loops: Array<{ server: string; connections: number; r: LoadSummary }> = [];
  /** When deskprov's last run of step 2 ended (its repeat folds are open until the window has passed). */
  let deskprovLoadEnd = 0;
  const wrks: Array<{ server: string; connections: number; r: ReturnType<typeof runWrk> }> = [];
  const bootPhones = phonesFor(phones, (p) => p.boot);
  for (const c of CONNECTIONS) {
    for (const s of servers) {
      await settle();
      const r = await runLoad({ mode: 'loop', origin: origin(s.port()), phones: bootPhones, expected, connections: c, durationMs: opts.duration * 1000, warmupMs: 2000, saveDir: null }, opts.threads);
      loops.push({ server: s.name, connections: c, r });
      if (s.name === 'deskprov') deskprovLoadEnd = Date.now();
      console.log(`${s.name} C=${c}: ${r.reqPerSec.toLocaleString('en-US')} req/s p50 ${r.p50} p99 ${r.p99} ms errors ${r.errors}${r.errorSamples.length ? ` (${r.errorSamples[0]})` : ''}`);
    }
    if (opts.wrk) {
      for (const s of wrkServers) {
        await settle();
        const r = runWrk(dir, origin(s.port()), ok.map((p) => [p, uaOf.get(p) ?? 'bench']), c, opts.duration);
        wrks.push({ server: s.name, connections: c, r });
        if (s.name === 'deskprov') deskprovLoadEnd = Date.now();
        console.log(`wrk ${s.name} C=${c}: ${r.reqPerSec.toLocaleString('en-US')} req/s p50 ${r.p50} p99 ${r.p99} ms errors ${r.errors} non-2xx ${r.non2xx}`);
      }
    }
  }
  const deskprovRssAfterLoad = round(deskprov.memory().rssMb);
  // The ceiling servers are done: nothing of them runs beside the storm.
  await bare?.stop();
  await bareLane?.stop();

  // 3. The storm: every phone on its own connection, all at once, 3 files each.
  const stormPhones = phonesFor(phones.slice(0, opts.storm), (p) => p.storm);
  // Each storm with the kernel's listen-queue overflows and SYN retransmits during it: a phone
  // whose connection found the accept queue full waits 1 s (then 3 s) for its SYN to be sent again.
  // Also the CPU the server's processes used during it, and the machine's idle and stolen time: a
  // storm slower than usual says whether the server worked more, or waited, or lost its cores.
  type StormResult = LoadSummary & { tcp: TcpCounters | null; serverCpuMs: number; machine: { idleMs: number; stealMs: number } | null };
  const storm = async (port: number, pid: number): Promise<StormResult> => {
    const before = tcpCounters();
    const cpu = treeCpuMs(pid);
    const machine = machineCpuMs();
    const r = await runLoad({ mode: 'storm', origin: origin(port), phones: stormPhones, expected, connections: 0, durationMs: 0, warmupMs: 0, saveDir: null }, opts.threads);
    const after = machineCpuMs();
    return {
      ...r,
      tcp: tcpSince(before),
      serverCpuMs: treeCpuMs(pid) - cpu,
      machine: machine && after ? { idleMs: after.idle - machine.idle, stealMs: after.steal - machine.steal } : null,
    };
  };
  const storms: Array<{ server: string; r: StormResult }> = [];
  // nginx's storms come right before and right after deskprov's, so the three share the
  // machine's state of that minute: on this shared machine a slow spell can last a minute or
  // more and slows every server's storms in it (the phone lane's alone too). deskprov's ratio is
  // to the storm before; the one after is a check of how far that minute moved.
  await windowPassed(deskprovLoadEnd);
  for (const [name, s] of [['nginx', nginxServer], ['deskprov', deskprovServer], [NGINX_AFTER, nginxServer]] as const) {
    await settle();
    const r = await storm(s.port(), s.pid());
    storms.push({ server: name, r });
    console.log(`storm ${name}: ${r.seconds} s for ${r.requests} requests, p99 ${r.p99} ms, errors ${r.errors}${overflowNote(r.tcp)}`);
  }
  // The same storm on a freshly started deskprov: nothing of the phones in memory, no folds open
  // (every fetch gets a row), code not yet optimised beyond its warm-up. Same port, so same
  // baseUrl: the renders stored by the previous process are current and served. It waits until
  // the process is ready (warm-up done, every phone worker accepting): after a power cut deskprov
  // is back in seconds and the phones in a minute or more.
  const port = deskprov.port;
  await deskprov.stop();
  deskprov = await startDeskprov({ dir, dbPath, port, workers: opts.workers, fetchLogThread: opts.fetchLogThread, config });
  const coldReadySeconds = await waitUntilReady(deskprov.port);
  const cold = await storm(deskprov.port, deskprov.pid);
  storms.push({ server: 'deskprov, fresh process', r: cold });
  console.log(`storm deskprov, fresh process (ready after ${coldReadySeconds} s): ${cold.seconds} s, errors ${cold.errors}${overflowNote(cold.tcp)}`);
  // The floor for a Node server: deskprov's phone lane alone (lib/bare-node.ts, the files from
  // memory, nothing of deskprov's own work) in as many processes, its first storm on a freshly
  // started process and then the same storm again.
  await settle();
  const floor = await startBareNode(root, 1 + opts.workers, ACCEPTORS, 'lane');
  stops.push(() => floor.stop());
  for (const name of ['lane only, fresh process', 'lane only']) {
    const r = await storm(floor.port, floor.pid);
    storms.push({ server: name, r });
    console.log(`storm ${name}: ${r.seconds} s, errors ${r.errors}${overflowNote(r.tcp)}`);
  }
  await floor.stop();
  const nginxRss = round(treeRssMbOf(nginx.pid));

  const ratio = (name: string, c: number, pick: 'loop' | 'wrk'): number => {
    const list = pick === 'loop' ? loops.map((l) => ({ ...l, rps: l.r.reqPerSec })) : wrks.map((w) => ({ ...w, rps: w.r.reqPerSec }));
    const me = list.find((l) => l.server === name && l.connections === c)?.rps ?? NaN;
    const ng = list.find((l) => l.server === 'nginx' && l.connections === c)?.rps ?? NaN;
    return round(me / ng, 2);
  };
  const nginxStorm = storms.find((s) => s.server === 'nginx')!.r.seconds;
  const nginxAfter = storms.find((s) => s.server === NGINX_AFTER)!.r.seconds;

  console.log('\nCached phone files: boot sequences, undici client (2 worker threads) on the same 2 cores');
  console.log(table(['server', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'x nginx'],
    loops.map((l) => [l.server, l.connections, l.r.reqPerSec, l.r.p50, l.r.p99, l.r.max, l.r.errors, ratio(l.server, l.connections, 'loop')])));
  if (wrks.length) {
    console.log('\nCached phone files: wrk -t2, rotating over every 200 file');
    console.log(`(node:http and lane only: the same files from memory in ${1 + opts.workers} process${opts.workers ? 'es' : ''} with ${ACCEPTORS} accept handles each, no checks, logging or metrics, answered by node:http and by deskprov's phone lane: ceilings for a Node server here)`);
    console.log(table(['server', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'errors', 'non-2xx', 'x nginx'],
      wrks.map((w) => [w.server, w.connections, w.r.reqPerSec, w.r.p50, w.r.p99, w.r.max, w.r.errors, w.r.non2xx, ratio(w.server, w.connections, 'wrk')])));
  }
  console.log(`\nBoot storm: ${opts.storm.toLocaleString('en-US')} phones at once, each on its own connection, 3 files each`);
  console.log(`(deskprov: the process of the runs above, its repeat windows passed; then a freshly started one once ready. lane only: deskprov's phone lane serving the files from memory in ${1 + opts.workers} process${opts.workers ? 'es' : ''}, a floor for a Node server here)`);
  console.log(`(listen overflows: connections the kernel dropped because a listen queue was full; SYN retransmits: the phones' SYNs sent again, 1 s and more later. Host-wide counters; net.core.somaxconn here: ${somaxconn() ?? 'unknown'}, the cap on every backlog)`);
  const tcpCell = (t: TcpCounters | null, k: keyof TcpCounters) => (t ? t[k] : 'n/a');
  console.log(`(server CPU: the server's processes, user + system; idle and steal: the machine's, all cores, while the storm ran)`);
  console.log(`(x nginx time: to nginx's storm right before deskprov's, the target's ratio; x nginx after: to nginx's storm right after it)`);
  console.log(table(['server', 'seconds', 'requests', 'p50 ms', 'p99 ms', 'errors', 'listen overflows', 'SYN retransmits', 'server CPU ms', 'idle ms', 'steal ms', 'x nginx time', 'x nginx after'],
    storms.map((s) => [s.server, s.r.seconds, s.r.requests, s.r.p50, s.r.p99, s.r.errors, tcpCell(s.r.tcp, 'listenOverflows'), tcpCell(s.r.tcp, 'synRetransmits'), s.r.serverCpuMs, s.r.machine?.idleMs ?? 'n/a', s.r.machine?.stealMs ?? 'n/a', round(s.r.seconds / nginxStorm, 2), round(s.r.seconds / nginxAfter, 2)])));
  const hit = storms.filter((x) => stolen(x.r));
  if (hit.length) console.log(`(steal: the hypervisor ran other guests on this machine's cores for over 5% of the time of ${hit.map((x) => x.server).join('; ')}: those times are the host's, not the servers'; run the benchmark again)`);
  console.log(`\nFirst fetch: each device's config once (nothing of the device in memory), wrk -t${opts.threads}, 64 connections`);
  console.log(table(['server', 'served from', 'configs', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'x nginx'], [
    ['deskprov, fresh process', 'stored render', fresh.requests, fresh.reqPerSec, fresh.p50, fresh.p99, fresh.errors, fresh.non2xx, round(fresh.reqPerSec / nginxConfigs.reqPerSec, 2)],
    ['deskprov, warmed up', 'stored render', warm.requests, warm.reqPerSec, warm.p50, warm.p99, warm.errors, warm.non2xx, round(warm.reqPerSec / nginxConfigs.reqPerSec, 2)],
    ['deskprov, fresh process', 'render on demand', onDemand.requests, onDemand.reqPerSec, onDemand.p50, onDemand.p99, onDemand.errors, onDemand.non2xx, round(onDemand.reqPerSec / nginxConfigs.reqPerSec, 2)],
    ['nginx', 'files on disk', nginxConfigs.requests, nginxConfigs.reqPerSec, nginxConfigs.p50, nginxConfigs.p99, nginxConfigs.errors, nginxConfigs.non2xx, 1],
  ]));
  console.log(`(start-up until ready, pre-render included, before the stored-render run: ${readySeconds} s)`);
  console.log(`RSS after the req/s runs: deskprov ${deskprovRssAfterLoad} MB, nginx (master + workers) ${nginxRss} MB`);
  const runEnd = machineCpuMs();
  const runStealMs = runStart && runEnd ? runEnd.steal - runStart.steal : null;
  console.log(`CPU time stolen by the hypervisor during the whole run: ${runStealMs ?? 'unknown'} ms (every figure above shares the machine with it)`);

  const file = writeResult('boot-storm', {
    command: `npx tsx scripts/bench/boot-storm.ts ${process.argv.slice(2).join(' ')}`.trim(),
    devices: opts.devices,
    stormPhones: opts.storm,
    durationSeconds: opts.duration,
    clientThreads: opts.threads,
    phoneWorkers: opts.workers,
    fetchLogThread: opts.fetchLogThread,
    fetchLogRepeatWindow: repeatWindow,
    warmUp: opts.warmUp,
    note: 'client and servers share the same 2 cores; ratios to nginx in the same run are the comparable figures',
    firstFetch: {
      client: `wrk -t${opts.threads} -c64, each config once`,
      storedRenderFreshProcess: fresh,
      storedRenderWarmedUp: warm,
      renderOnDemand: onDemand,
      nginx: nginxConfigs,
      readySeconds,
    },
    freshProcessReadySeconds: coldReadySeconds,
    cached: loops.map((l) => ({ server: l.server, connections: l.connections, ...l.r, seen: undefined, xNginx: ratio(l.server, l.connections, 'loop') })),
    wrk: wrks.map((w) => ({ server: w.server, connections: w.connections, ...w.r, xNginx: ratio(w.server, w.connections, 'wrk') })),
    storm: storms.map((s) => ({ server: s.server, ...s.r, seen: undefined, xNginxTime: round(s.r.seconds / nginxStorm, 2), xNginxAfter: round(s.r.seconds / nginxAfter, 2), stolen: stolen(s.r) })),
    rssMb: { deskprovAfterLoad: deskprovRssAfterLoad, nginx: nginxRss },
    stealMs: runStealMs,
  });
  console.log(`\nwrote ${file}`);
}

try {
  await main();
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  if (!opts.keep) rmSync(dir, { recursive: true, force: true });
}
