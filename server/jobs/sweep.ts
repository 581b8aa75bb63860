/**
 * Scheduled jobs; the one place that imports node-cron. The hot-desk sweep runs once at
 * start-up (catching up on sessions that expired while deskprov was down), on
 * `hotdesk.sweepCron`, and at each `hotdesk.dailyLogoutAt` in `provisioning.timeZone`. The
 * device change notes are trimmed every minute.
 */
import cron from 'node-cron';
import type { Context } from '../context.js';
import { nextDailyLogout } from '../domain/hotdesk-policy.js';
import type { HotdeskService } from '../services/hotdesk.js';

/** Device change notes kept (each ~30 bytes). */
const CHANGE_NOTES_KEPT = 100_000;

/** Stops every job's timers (safe to call twice); `firstSweep` settles with the start-up catch-up count. */
export type StopJobs = (() => void) & { firstSweep: Promise<number> };

/** Throws (naming the key) when `hotdesk.sweepCron` is not a node-cron expression. */
export function checkSweepCron(expression: string): void {
  if (!cron.validate(expression)) {
    throw new Error(`hotdesk.sweepCron: "${expression}" is not a cron expression (5 or 6 fields, seconds first when 6)`);
  }
}

export function startJobs(ctx: Context, hotdesk: HotdeskService): StopJobs {
  const { config, log, clock } = ctx;
  checkSweepCron(config.hotdesk.sweepCron);

  const run = async (why: string): Promise<number> => {
    try {
      const started = Date.now();
      const { ended, batches, longestBatchMs } = await hotdesk.sweepReport(clock.now());
      if (ended > 0) {
        log.info(
          { job: 'hotdesk-sweep', why, ended, ms: Date.now() - started, batches, longestBatchMs: Math.round(longestBatchMs) },
          `hot-desk sweep ended ${ended} session(s)`,
        );
      }
      return ended;
    } catch (err) {
      log.error({ err, job: 'hotdesk-sweep', why }, 'hot-desk sweep failed');
      return 0;
    }
  };

  const first = run('start-up');

  const task = cron.schedule(config.hotdesk.sweepCron, () => run('cron'), {
    name: 'hotdesk-sweep',
    noOverlap: true,
    timezone: config.provisioning.timeZone,
  });

  let daily: NodeJS.Timeout | null = null;
  const armDaily = (): void => {
    const at = config.hotdesk.dailyLogoutAt;
    if (at === null) return;
    const now = clock.now();
    const next = nextDailyLogout(now, at, config.provisioning.timeZone);
    // A day is far below setTimeout's 2^31 ms ceiling; the +50 ms lands after the instant.
    daily = setTimeout(() => {
      void run('daily-logout');
      armDaily();
    }, next - now + 50);
    daily.unref();
  };
  armDaily();

  // The change notes phone workers read (migration 007): the newest are plenty for workers that
  // read them after every commit; one that finds a gap drops all it caches.
  const trimNotes = setInterval(() => {
    try {
      ctx.stores.deviceChanges.trim(CHANGE_NOTES_KEPT);
    } catch (err) {
      log.warn({ err, job: 'change-notes' }, 'could not trim the device change notes');
    }
  }, 60_000);
  trimNotes.unref();

  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(trimNotes);
    if (daily) clearTimeout(daily);
    void task.destroy();
  };
  return Object.assign(stop, { firstSweep: first });
}
