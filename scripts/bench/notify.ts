/**
 * NOTIFY throughput of SipNotifyClient against a SIPp UAS on loopback.
 *
 *   npx tsx scripts/bench/notify.ts [--count 10000] [--transport udp|tcp] [--window 64]
 *
 * Starts SIPp (uas_notify_200.xml, `-m count`), sends `count` NOTIFYs at once (the client keeps
 * `window` in flight and queues the rest), prints a table and writes bench-results/notify.json.
 * Latency is the client's elapsedMs: first transmission to final answer, queueing excluded.
 */
import { Command, InvalidArgumentError } from 'commander';
import { positiveInt } from './lib/args.js';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SipNotifyClient, type NotifyResult } from '../../server/sip/client.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCENARIO = path.join(ROOT, 'test/fixtures/sip/uas_notify_200.xml');

const program = new Command()
  .description('NOTIFY/s and latency of the SIP client against a SIPp UAS on 127.0.0.1')
  .option('--count <n>', 'NOTIFYs to send', positiveInt, 10000)
  .option('--transport <t>', 'udp or tcp', (v) => {
    if (v !== 'udp' && v !== 'tcp') throw new InvalidArgumentError('udp or tcp');
    return v;
  }, 'udp')
  .option('--window <n>', 'max NOTIFYs in flight', positiveInt, 64)
  .option('--sipp <path>', 'sipp binary', '/usr/bin/sipp')
  .parse();
const opts = program.opts<{ count: number; transport: 'udp' | 'tcp'; window: number; sipp: string }>();

function portTaken(port: number, transport: 'udp' | 'tcp'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = transport === 'udp' ? dgram.createSocket('udp4') : net.createServer();
    s.once('error', () => resolve(true));
    if (s instanceof net.Server) s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
    else s.bind(port, '127.0.0.1', () => s.close(() => resolve(false)));
  });
}

async function startSipp(): Promise<{ port: number; stop: (graceMs?: number) => Promise<number | null> }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if (await portTaken(port, opts.transport)) continue;
    const child = spawn(opts.sipp, [
      '-sf', SCENARIO, '-t', opts.transport === 'udp' ? 'u1' : 't1', '-i', '127.0.0.1', '-p', String(port),
      '-m', String(opts.count), '-nostdin', '-timeout', '300s', '-timeout_error', '-max_socket', '60000',
    ], { stdio: ['ignore', 'ignore', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.once('error', (err) => console.error(`cannot run ${opts.sipp}: ${err.message}`));
    /** After its `-m` calls SIPp exits by itself (0 = every call passed); give it 3 s, then kill it. */
    const stop = async (graceMs = 0): Promise<number | null> => {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([exited, grace]);
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    };
    for (let i = 0; i < 250 && child.exitCode === null; i++) {
      if (await portTaken(port, opts.transport)) return { port, stop };
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await stop();
  }
  throw new Error('could not start sipp');
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function main(): Promise<void> {
  const sipp = await startSipp();
  const client = new SipNotifyClient({ bindHost: '127.0.0.1', port: 0, maxInFlight: opts.window, logger: { warn: (o, m) => console.warn(m, o) } });
  const startRss = process.memoryUsage().rss;
  let peakRss = startRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  try {
    await client.start();
    const started = performance.now();
    const results: NotifyResult[] = await Promise.all(
      Array.from({ length: opts.count }, (_, i) =>
        client.notify({ target: { host: '127.0.0.1', port: sipp.port, transport: opts.transport }, user: `u${i}`, event: 'check-sync' })),
    );
    const wallMs = performance.now() - started;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);

    const latencies = results.map((r) => r.elapsedMs).sort((a, b) => a - b);
    const statuses: Record<string, number> = {};
    for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    const report = {
      date: new Date().toISOString(),
      node: process.version,
      transport: opts.transport,
      count: opts.count,
      window: opts.window,
      wallMs: Math.round(wallMs),
      notifiesPerSecond: Math.round(opts.count / (wallMs / 1000)),
      p50Ms: Number(percentile(latencies, 50).toFixed(2)),
      p99Ms: Number(percentile(latencies, 99).toFixed(2)),
      maxMs: Number((latencies.at(-1) ?? NaN).toFixed(2)),
      losses: results.filter((r) => r.status !== 200).length,
      retransmissions: results.reduce((n, r) => n + r.transmissions - 1, 0),
      statuses,
      startRssMB: Number((startRss / 1024 / 1024).toFixed(1)),
      peakRssMB: Number((peakRss / 1024 / 1024).toFixed(1)),
    };
    console.table({
      'NOTIFY/s': report.notifiesPerSecond,
      'p50 to final (ms)': report.p50Ms,
      'p99 to final (ms)': report.p99Ms,
      'non-200 (losses)': report.losses,
      retransmissions: report.retransmissions,
      'RSS at start (MB)': report.startRssMB,
      'peak RSS (MB)': report.peakRssMB,
    });
    const out = path.join(ROOT, 'bench-results/notify.json');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`${opts.count} NOTIFYs over ${opts.transport}, window ${opts.window}, ${report.wallMs} ms; wrote ${path.relative(ROOT, out)}`);
  } finally {
    clearInterval(sampler);
    await client.close();
    const code = await sipp.stop(3000);
    console.log(code === 0 ? 'sipp: every call passed' : `sipp exit code ${code}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
