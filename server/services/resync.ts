/**
 * The resync dispatcher: drains the durable `outbox` into SIP NOTIFYs (CONTRACT §4).
 *
 * - Wakes when a change is queued (ChangeTracker.onQueued), on a poll timer (retries falling
 *   due), and at start, so rows that survived a crash or restart are sent.
 * - One token bucket at `sip.maxNotifiesPerSecond` across everything; at most `maxInFlight`
 *   NOTIFYs waiting for an answer.
 * - 2xx: done. 408/503 (no answer, transport failure): stays queued with exponential backoff
 *   (30 s, 1 m, 2 m … capped at 15 m) until `maxAttempts`, then given up. Any other final
 *   answer (403, 404, 481, 489 …): done — the phone answered; hammering it changes nothing.
 * - A device with nowhere to send (no sipContact, never fetched) is dropped with a
 *   'no-target' log row: it has no config to refresh and fetches the current one when it boots.
 * - Every NOTIFY and what became of it is a notify_log row.
 * - `stop()` waits (bounded) for NOTIFYs in flight; unsent rows stay in the outbox.
 */
import type { DeviceRecord } from '../../db/stores/devices.js';
import type { Stores } from '../../db/stores/index.js';
import type { NotifyOutcome } from '../../db/stores/notify-log.js';
import type { OutboxEntry } from '../../db/stores/outbox.js';
import type { Mac } from '../domain/mac.js';
import type { Logger } from '../log.js';
import type { NotifyResult, SipNotifier } from '../sip/notifier.js';
import type { ChangeTracker } from './change-tracker.js';
import type { Clock } from './clock.js';
import { recordAnswers, type Answer, type Recorded, type RetryPolicy } from './resync-outcome.js';
import { eventFor, planNotify, type NotifyPlan, type TargetSettings } from './resync-target.js';
import { TokenBucket } from './token-bucket.js';

/** Timers the dispatcher waits on; injectable so tests advance fake time instead of sleeping. */
export interface SchedulerTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemSchedulerTimers: SchedulerTimers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface ResyncOptions extends TargetSettings {
  maxPerSecond: number;
  /** NOTIFYs waiting for a final answer at once (default 64, the SIP client's window: wider windows lose answers in bursts). */
  maxInFlight?: number;
  /** Tries per queued resync before giving up on 408/503 (default 10). */
  maxAttempts?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** How often the queue is looked at without a wake-up (default 1 s). */
  pollMs?: number;
}

/** One settled resync, for metrics (`onResult`). */
export interface ResyncResult {
  mac: Mac;
  vendor: string;
  outcome: NotifyOutcome;
  status: number;
  elapsedMs: number;
}

export interface ResyncDeps {
  stores: Stores;
  changes: ChangeTracker;
  notifier: SipNotifier;
  clock: Clock;
  timers?: SchedulerTimers;
  log: Logger;
  /** Metrics hook: called once per settled NOTIFY (and per dropped no-target row). */
  onResult?: (r: ResyncResult) => void;
}

export interface ResyncStats {
  running: boolean;
  inFlight: number;
  maxPerSecond: number;
  sent: number;
  byOutcome: Record<NotifyOutcome, number>;
}

export class ResyncDispatcher {
  private readonly timers: SchedulerTimers;
  private readonly bucket: TokenBucket;
  private readonly maxInFlight: number;
  private readonly pollMs: number;
  private readonly batchSize: number;
  /** Sent and not yet recorded (answer pending, or answered and waiting for the batch write). */
  private readonly inFlight = new Set<Mac>();
  private answers: Answer[] = [];
  private readonly idleWaiters: Array<() => void> = [];
  private readonly policy: RetryPolicy;
  /** Due rows read ahead of the throttle; each is re-read before it is sent. */
  private batch: OutboxEntry[] = [];
  private batchHead = 0;
  private running = false;
  private closed = false;
  private pumping = false;
  private pollTimer: unknown = null;
  private wakeTimer: unknown = null;
  private wakeAt = Infinity;
  private unsubscribe: (() => void) | null = null;
  private readonly stats_: ResyncStats;

  constructor(private readonly deps: ResyncDeps, private readonly opts: ResyncOptions) {
    this.timers = deps.timers ?? systemSchedulerTimers;
    this.bucket = new TokenBucket(opts.maxPerSecond, deps.clock.now());
    this.maxInFlight = opts.maxInFlight ?? 64;
    this.policy = { maxAttempts: opts.maxAttempts ?? 10, retryBaseMs: opts.retryBaseMs ?? 30_000, retryMaxMs: opts.retryMaxMs ?? 15 * 60_000 };
    this.pollMs = opts.pollMs ?? 1000;
    this.batchSize = Math.min(512, Math.max(16, Math.ceil(opts.maxPerSecond)));
    if (!(this.maxInFlight >= 1 && this.policy.maxAttempts >= 1 && this.pollMs > 0)) throw new RangeError('bad resync options');
    this.stats_ = {
      running: false, inFlight: 0, maxPerSecond: opts.maxPerSecond, sent: 0,
      byOutcome: { ok: 0, retry: 0, 'gave-up': 0, answered: 0, 'no-target': 0, invalid: 0 },
    };
  }

  start(): void {
    if (this.running || this.closed) return;
    this.running = true;
    this.unsubscribe = this.deps.changes.onQueued(() => this.pump());
    this.schedulePoll();
    this.pump(); // rows left from before a restart
  }

  /**
   * Stops taking rows, then waits up to `graceMs` for NOTIFYs in flight to be answered and
   * recorded. Anything unanswered by then stays in the outbox and is sent after the next start.
   * After this resolves the dispatcher no longer touches the database.
   */
  async stop(graceMs = 5000): Promise<void> {
    if (this.closed) return;
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.pollTimer !== null) this.timers.clearTimeout(this.pollTimer);
    if (this.wakeTimer !== null) this.timers.clearTimeout(this.wakeTimer);
    this.pollTimer = this.wakeTimer = null;
    if (this.inFlight.size > 0) {
      let timer: unknown = null;
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => (timer = this.timers.setTimeout(resolve, graceMs))),
      ]);
      if (timer !== null) this.timers.clearTimeout(timer);
    }
    this.closed = true;
  }

  stats(): ResyncStats {
    return { ...this.stats_, running: this.running, inFlight: this.inFlight.size, byOutcome: { ...this.stats_.byOutcome } };
  }

  /** Sends every due row the throttle and the in-flight bound allow; re-entrant calls are no-ops. */
  pump(): void {
    if (!this.running || this.pumping) return;
    this.pumping = true;
    try {
      while (this.running && this.inFlight.size < this.maxInFlight) {
        const now = this.deps.clock.now();
        const entry = this.nextDue(now);
        if (entry === null) break;
        const device = this.deps.stores.devices.get(entry.mac);
        const plan = device === null ? null : this.plan(device);
        if (device === null || plan === null) {
          this.deps.stores.outbox.complete(entry); // the device is gone: nothing to tell
          continue;
        }
        if (!plan.ok) {
          const result = { status: 0, reason: plan.problem, transmissions: 0, elapsedMs: 0 };
          this.recordNow({ entry, device, target: '', event: eventFor(device.vendor, this.opts.events), result, forced: 'no-target' });
          continue;
        }
        const wait = this.bucket.msUntilToken(now);
        if (wait > 0) {
          this.batchHead--; // put it back; it is first when the next token is there
          this.wakeIn(wait);
          break;
        }
        this.bucket.tryTake(now);
        this.send(entry, device, plan);
      }
    } catch (err) {
      this.deps.log.error({ err }, 'resync dispatcher failed; retrying on the next poll');
    } finally {
      this.pumping = false;
    }
  }

  private plan(device: DeviceRecord): Extract<NotifyPlan, { ok: true }> | { ok: false; problem: string } {
    return planNotify(device, this.credentialsOf(device), this.opts);
  }

  /** The SIP credentials of the line the phone last fetched (what it is registered with now). */
  private credentialsOf(d: DeviceRecord): { username: string; password: string } | null {
    if (d.fetchedExtension === null) return null;
    const user = this.deps.stores.users.get(d.fetchedExtension);
    if (!user) return null;
    return { username: d.fetchedLineUser ?? user.sipUsername, password: user.sipPassword };
  }

  /** The next due row not already in flight, re-read so a re-queue or retry in between is seen. */
  private nextDue(now: number): OutboxEntry | null {
    for (;;) {
      if (this.batchHead >= this.batch.length) {
        this.batch = this.deps.stores.outbox.due(now, this.inFlight.size + this.batchSize).filter((e) => !this.inFlight.has(e.mac));
        this.batchHead = 0;
        if (this.batch.length === 0) return null;
      }
      const mac = this.batch[this.batchHead++]!.mac;
      if (this.inFlight.has(mac)) continue;
      const current = this.deps.stores.outbox.get(mac);
      if (current !== null && current.notBefore <= now) return current;
    }
  }

  private send(entry: OutboxEntry, device: DeviceRecord, plan: Extract<NotifyPlan, { ok: true }>): void {
    this.stats_.sent++;
    this.inFlight.add(entry.mac);
    const answer = (result: NotifyResult, forced: NotifyOutcome | null): void =>
      this.answered({ entry, device, target: plan.target, event: plan.request.event, result, forced });
    const invalid = (err: unknown): void =>
      answer({ status: 0, reason: `invalid request: ${err instanceof Error ? err.message : String(err)}`, transmissions: 0, elapsedMs: 0 }, 'invalid');
    try {
      this.deps.notifier.notify(plan.request).then((r) => answer(r, null), invalid);
    } catch (err) {
      queueMicrotask(() => invalid(err));
    }
  }

  /** Collects answers; they are written together once the current I/O burst has been read. */
  private answered(a: Answer): void {
    if (this.closed) return; // stop() gave up waiting: the row stays queued for the next start
    if (!this.running && a.result.status === 503 && a.result.reason === 'client closed') {
      this.inFlight.delete(a.entry.mac); // shutting down: not an attempt, the row stays queued
      this.checkIdle();
      return;
    }
    this.answers.push(a);
    if (this.answers.length === 1) setImmediate(() => this.flush());
  }

  private flush(): void {
    if (this.closed) return; // after stop(): the database may be closed; the rows stay queued
    const batch = this.answers;
    this.answers = [];
    if (batch.length === 0) return;
    try {
      this.report(recordAnswers(this.deps.stores, batch, this.deps.clock.now(), this.policy));
    } catch (err) {
      this.deps.log.error({ err, count: batch.length }, 'could not record NOTIFY results; those resyncs will be sent again');
    } finally {
      for (const a of batch) this.inFlight.delete(a.entry.mac);
      this.checkIdle();
      this.pump();
    }
  }

  private recordNow(a: Answer): void {
    this.report(recordAnswers(this.deps.stores, [a], this.deps.clock.now(), this.policy));
  }

  private report(recorded: readonly Recorded[]): void {
    for (const r of recorded) {
      const { entry, device, target, result, outcome, reason, attempt } = r;
      this.stats_.byOutcome[outcome]++;
      if (outcome === 'retry' || outcome === 'gave-up' || outcome === 'invalid') {
        this.deps.log.warn({ mac: entry.mac, target, status: result.status, reason, attempt, outcome }, 'resync NOTIFY not answered');
      } else {
        this.deps.log.debug({ mac: entry.mac, target, status: result.status, outcome, ms: Math.round(result.elapsedMs) }, 'resync NOTIFY answered');
      }
      this.deps.onResult?.({ mac: entry.mac, vendor: device.vendor, outcome, status: result.status, elapsedMs: result.elapsedMs });
    }
  }

  private checkIdle(): void {
    if (this.inFlight.size > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private schedulePoll(): void {
    this.pollTimer = this.timers.setTimeout(() => {
      this.pollTimer = null;
      if (!this.running) return;
      this.pump();
      this.schedulePoll();
    }, this.pollMs);
  }

  private wakeIn(ms: number): void {
    const at = this.deps.clock.now() + ms;
    if (this.wakeTimer !== null && this.wakeAt <= at) return;
    if (this.wakeTimer !== null) this.timers.clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = this.timers.setTimeout(() => {
      this.wakeTimer = null;
      this.wakeAt = Infinity;
      this.pump();
    }, ms);
  }
}
