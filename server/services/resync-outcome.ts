/**
 * What a NOTIFY answer means for its outbox row, and recording it: one notify_log row per
 * answer, and the row completed, rescheduled with backoff, or dropped — many answers in one
 * transaction (a mass resync answers thousands a second; one commit each would be the bottleneck).
 */
import type { DeviceRecord } from '../../db/stores/devices.js';
import type { Stores } from '../../db/stores/index.js';
import type { NotifyOutcome } from '../../db/stores/notify-log.js';
import type { OutboxEntry } from '../../db/stores/outbox.js';
import type { NotifyResult } from '../sip/notifier.js';

/** Retried on these: no final answer (local 408) or the phone could not be reached (503). */
export const RETRYABLE: ReadonlySet<number> = new Set([408, 503]);

export interface RetryPolicy {
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

/** A settled NOTIFY waiting to be recorded. */
export interface Answer {
  entry: OutboxEntry;
  device: DeviceRecord;
  target: string;
  event: string;
  result: NotifyResult;
  /** Set when the outcome is known without looking at the status (no-target, invalid). */
  forced: NotifyOutcome | null;
}

export interface Recorded extends Answer {
  outcome: NotifyOutcome;
  reason: string;
  attempt: number;
}

/** The outcome of attempt number `attempt` (1-based) that ended with `status`. */
export function classify(status: number, attempt: number, maxAttempts: number): NotifyOutcome {
  if (status >= 200 && status < 300) return 'ok';
  if (!RETRYABLE.has(status)) return 'answered';
  return attempt >= maxAttempts ? 'gave-up' : 'retry';
}

/** 30 s, 1 m, 2 m, 4 m … capped (with the defaults) at 15 m; `failures` = earlier failed attempts. */
export function backoffMs(failures: number, p: RetryPolicy): number {
  return Math.min(p.retryMaxMs, p.retryBaseMs * 2 ** Math.min(failures, 30));
}

/** Writes the answers in one transaction; returns what became of each. */
export function recordAnswers(stores: Stores, answers: readonly Answer[], now: number, p: RetryPolicy): Recorded[] {
  return stores.tx(() => answers.map((a) => {
    const attempt = a.entry.attempts + 1;
    const outcome = a.forced ?? classify(a.result.status, attempt, p.maxAttempts);
    const reason = outcome === 'gave-up' ? `${a.result.reason} (gave up after ${attempt} attempts)` : a.result.reason;
    stores.notifyLog.insert({
      mac: a.entry.mac, at: now, event: a.event, target: a.target,
      status: a.result.status, reason, transmissions: a.result.transmissions, elapsedMs: Math.round(a.result.elapsedMs),
      configVersion: a.device.configVersion, outcome,
    });
    if (outcome !== 'retry') {
      stores.outbox.complete(a.entry); // kept if re-queued meanwhile (queued_at changed): that one is still owed
    } else if (stores.outbox.get(a.entry.mac)?.queuedAt === a.entry.queuedAt) {
      // (Re-queued while in flight: the fresh row is due now with its own attempt count.)
      stores.outbox.retryLater(a.entry.mac, a.result.status, now + backoffMs(a.entry.attempts, p));
    }
    return { ...a, outcome, reason, attempt };
  }));
}
