/**
 * Mass resync: a template change over N Yealink desks, through the durable outbox, the
 * dispatcher's throttle and deskprov's SIP client, to one SIPp UAS on loopback.
 *
 *   npx tsx scripts/bench/mass-resync.ts [--devices 10000] [--throttled 2000] [--rate 200]
 *
 * Run 1 "unthrottled": maxNotifiesPerSecond 10000 — NOTIFY/s from the first send to the last
 * answer, losses (non-200 or missing), p99 time to the final answer.
 * Run 2 "throttled": `--throttled` devices at `--rate`/s — the measured send rate over the run
 * and the busiest 1-second window, which must stay within 5 % of the setting.
 * Prints a table and writes bench-results/mass-resync.json.
 */
import { Command } from 'commander';
import { positiveNumber } from './lib/args.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDatabase } from '../../db/index.js';
import type { Mac } from '../../server/domain/mac.js';
import { parseConfig } from '../../server/config.js';
import { createContext, createResyncDispatcher } from '../../server/context.js';
import { createLogger } from '../../server/log.js';
import { SYSTEM } from '../../server/services/audit.js';
import { systemClock } from '../../server/services/clock.js';
import type { ResyncResult } from '../../server/services/resync.js';
import { SipNotifyClient } from '../../server/sip/client.js';
import type { NotifyRequest, NotifyResult, SipNotifier } from '../../server/sip/notifier.js';
import { startSipp } from '../../test/helpers/sipp.js';
import { percentile, round, table, writeResult } from './lib/stats.js';

const opts = new Command()
  .description('mass resync through the outbox to a SIPp UAS: throughput, throttle accuracy, losses')
  .option('--devices <n>', 'devices in the unthrottled run', positiveNumber, 10_000)
  .option('--throttled <n>', 'devices in the throttled run', positiveNumber, 2_000)
  .option('--rate <n>', 'maxNotifiesPerSecond of the throttled run', positiveNumber, 200)
  .option('--in-flight <n>', 'NOTIFYs awaiting an answer at once', positiveNumber, 64)
  .parse()
  .opts<{ devices: number; throttled: number; rate: number; inFlight: number }>();

interface RunReport {
  devices: number;
  maxNotifiesPerSecond: number;
  /** Template save: render before/after for every device, bump versions, queue the outbox. */
  templateSaveMs: number;
  queued: number;
  wallMs: number;
  notifiesPerSecond: number;
  /** Send rate between the first and the last NOTIFY put on the wire. */
  sendRatePerSecond: number;
  busiestSecond: number;
  ok: number;
  losses: number;
  leftInOutbox: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  retransmissions: number;
  sippExit: number | null;
}

/** Records when each NOTIFY was handed to the client. */
class Timed implements SipNotifier {
  readonly sentAt: number[] = [];
  constructor(private readonly inner: SipNotifier) {}
  notify(req: NotifyRequest): Promise<NotifyResult> {
    this.sentAt.push(performance.now());
    return this.inner.notify(req);
  }
}

function busiestSecond(at: number[]): number {
  let worst = 0;
  for (let i = 0, j = 0; i < at.length; i++) {
    while (j < at.length && at[j]! < at[i]! + 1000) j++;
    worst = Math.max(worst, j - i);
  }
  return worst;
}

async function run(devices: number, rate: number): Promise<RunReport> {
  const dir = mkdtempSync(path.join(tmpdir(), 'deskprov-mass-resync-'));
  const sipp = await startSipp({ scenario: 'uas_notify_200.xml', calls: devices, timeout: '600s', extraArgs: ['-max_socket', '60000'] });
  const config = parseConfig({ database: { path: path.join(dir, 'bench.db') }, sip: { maxNotifiesPerSecond: rate }, log: { level: 'warn' } }, {});
  const db = openDatabase(config.database.path);
  const log = createLogger('warn');
  const ctx = createContext({ config, db, clock: systemClock, log, templateDir: null });
  const client = new SipNotifyClient({ bindHost: '127.0.0.1', port: 0, maxInFlight: opts.inFlight, logger: log });
  const timed = new Timed(client);
  const results: ResyncResult[] = [];
  let allDone: () => void = () => {};
  const done = new Promise<void>((resolve) => (allDone = resolve));
  const dispatcher = createResyncDispatcher(ctx, timed, {
    onResult: (r) => {
      results.push(r);
      if (results.length === devices) allDone();
    },
    options: { maxInFlight: opts.inFlight },
  });
  try {
    await client.start();
    const now = Date.now();
    ctx.stores.tx(() => {
      for (let i = 0; i < devices; i++) {
        ctx.stores.devices.insert({
          mac: `001565${i.toString(16).padStart(6, '0')}` as Mac, vendor: 'yealink', model: 'T46U', label: `Desk ${i}`,
          ownerExtension: null, hotdeskEnabled: false, locationId: null, sipContact: `sip:127.0.0.1:${sipp.port}`, sessionTimeout: null,
        }, now);
      }
    });
    // The change: one line added to the Yealink device template touches every desk.
    const source = ctx.templates.current('yealink', 'device').source;
    const t0 = performance.now();
    const saved = ctx.templates.save('yealink', 'device', `${source}\n# building-wide change ${now}\n`, { actor: SYSTEM, comment: 'bench' });
    const templateSaveMs = performance.now() - t0;
    const queued = ctx.stores.outbox.depth();

    const started = performance.now();
    dispatcher.start();
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, Math.max(60_000, (devices / rate) * 2000)).unref());
    await Promise.race([done, deadline]);
    const wallMs = performance.now() - started;
    await dispatcher.stop(5000);

    const elapsed = results.map((r) => r.elapsedMs).sort((a, b) => a - b);
    const okCount = results.filter((r) => r.outcome === 'ok').length;
    const sends = timed.sentAt;
    const sendSpan = (sends.at(-1)! - sends[0]!) / 1000;
    const retransmissions = (db.prepare('SELECT coalesce(sum(transmissions - 1), 0) AS n FROM notify_log').get() as { n: number }).n;
    const leftInOutbox = ctx.stores.outbox.depth();
    await client.close();
    const sippExit = await Promise.race([sipp.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 5000).unref())]);
    return {
      devices,
      maxNotifiesPerSecond: rate,
      templateSaveMs: round(templateSaveMs),
      queued: Math.max(queued, saved.devicesChanged),
      wallMs: round(wallMs),
      notifiesPerSecond: round(okCount / (wallMs / 1000), 0),
      sendRatePerSecond: round(sends.length > 1 ? (sends.length - 1) / sendSpan : NaN, 1),
      busiestSecond: busiestSecond(sends),
      ok: okCount,
      losses: devices - okCount,
      leftInOutbox,
      p50Ms: round(percentile(elapsed, 50), 2),
      p99Ms: round(percentile(elapsed, 99), 2),
      maxMs: round(elapsed.at(-1) ?? NaN, 2),
      retransmissions,
      sippExit,
    };
  } finally {
    await dispatcher.stop(0);
    await client.close();
    sipp.kill();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const unthrottled = await run(opts.devices, 10_000);
  const throttled = await run(opts.throttled, opts.rate);
  const rateError = Math.abs(throttled.sendRatePerSecond - opts.rate) / opts.rate;
  const windowError = (throttled.busiestSecond - opts.rate) / opts.rate;
  const rows = [unthrottled, throttled].map((r) => [
    r.devices, r.maxNotifiesPerSecond, r.templateSaveMs, r.notifiesPerSecond, r.sendRatePerSecond, r.busiestSecond,
    r.losses, r.leftInOutbox, r.p50Ms, r.p99Ms, r.retransmissions, String(r.sippExit),
  ]);
  console.log(table(
    ['devices', 'max/s', 'template save ms', 'NOTIFY/s (answered)', 'send rate/s', 'busiest 1 s', 'losses', 'left queued', 'p50 ms', 'p99 ms', 'retrans', 'sipp exit'],
    rows,
  ));
  console.log(`throttle: measured ${throttled.sendRatePerSecond}/s for ${opts.rate}/s (${round(rateError * 100, 2)} % off); busiest second ${throttled.busiestSecond} (${round(windowError * 100, 2)} % over)`);
  const file = writeResult('mass-resync', {
    targets: { unthrottledNotifiesPerSecond: 2000, throttleAccuracyPercent: 5 },
    unthrottled,
    throttled: { ...throttled, rateErrorPercent: round(rateError * 100, 2), busiestSecondOverPercent: round(windowError * 100, 2) },
    pass: unthrottled.notifiesPerSecond >= 2000 && unthrottled.losses === 0 && throttled.losses === 0 && rateError <= 0.05 && windowError <= 0.05,
  });
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
