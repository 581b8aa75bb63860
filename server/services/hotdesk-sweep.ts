/**
 * The hot-desk sweep: ends sessions past their timeout ('timeout') and, with
 * `hotdesk.dailyLogoutAt`, those started before the last daily logout ('daily'). Each session
 * goes through the same transition function as everything else (`expire` / `daily-logout`);
 * only the effects are applied per batch, so 100,000 sessions end in a few hundred statements.
 */
import type { SessionWithDevice } from '../../db/stores/sessions.js';
import type { Config } from '../config.js';
import { transition, type DeviceEvent, type DeviceSnapshot, type EndReason } from '../domain/device-state.js';
import { nextDailyLogout } from '../domain/hotdesk-policy.js';
import type { Mac } from '../domain/mac.js';
import type { Stores } from '../../db/stores/index.js';
import { SYSTEM, type AuditSink } from './audit.js';
import type { ChangeTracker } from './change-tracker.js';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Sessions ended per transaction by the sweep. */
export const SWEEP_BATCH = 1000;
const DAY_MS = 86_400_000;

export interface SweepDeps {
  stores: Stores;
  changes: ChangeTracker;
  audit: AuditSink;
  config: Config;
}

/** What one sweep did: sessions ended, transactions run and the longest one (wall ms). */
export interface SweepReport {
  ended: number;
  batches: number;
  /** The event loop is blocked for one batch at a time: this is the longest such pause. */
  longestBatchMs: number;
}

export class HotdeskSweep {
  constructor(private readonly d: SweepDeps) {}

  /**
   * Ends every session past its timeout ('timeout') and, with `hotdesk.dailyLogoutAt`, every
   * session started before the last daily logout ('daily'). Idempotent; batches of
   * SWEEP_BATCH per transaction, yielding to the event loop between batches so phones are
   * still served during a big sweep. Two overlapping sweeps are safe: each batch re-reads what
   * is still active. Returns how many sessions it ended.
   */
  async sweep(now: number): Promise<number> {
    return (await this.run(now)).ended;
  }

  /** `sweep`, reporting its batches too. */
  async run(now: number): Promise<SweepReport> {
    const report: SweepReport = { ended: 0, batches: 0, longestBatchMs: 0 };
    const cut = this.lastDailyLogout(now);
    if (cut !== null) await this.drain((n) => this.d.stores.sessions.activeStartedBefore(cut, n), { type: 'daily-logout' }, 'daily', now, report);
    await this.drain((n) => this.d.stores.sessions.expiredWithDevice(now, n), { type: 'expire', now }, 'timeout', now, report);
    return report;
  }

  /** The latest daily-logout instant at or before `now`, or null when there is none configured. */
  lastDailyLogout(now: number): number | null {
    const at = this.d.config.hotdesk.dailyLogoutAt;
    if (at === null) return null;
    const zone = this.d.config.provisioning.timeZone;
    let last = nextDailyLogout(now - 2 * DAY_MS, at, zone);
    for (let next = nextDailyLogout(last, at, zone); next <= now; next = nextDailyLogout(last, at, zone)) last = next;
    return last <= now ? last : null;
  }

  private async drain(
    batchOf: (limit: number) => SessionWithDevice[],
    event: DeviceEvent,
    reason: EndReason,
    now: number,
    report: SweepReport,
  ): Promise<void> {
    for (;;) {
      // Wall time of the transaction (not the injected clock): how long phones wait on it.
      const started = performance.now();
      const { found, ended } = this.d.stores.tx(() => {
        const batch = batchOf(SWEEP_BATCH);
        return { found: batch.length, ended: this.endBatch(batch, event, reason, now) };
      });
      report.longestBatchMs = Math.max(report.longestBatchMs, performance.now() - started);
      report.batches++;
      report.ended += ended;
      if (found < SWEEP_BATCH || ended === 0) return;
      await nextTurn();
    }
  }

  /**
   * Replays `event` on each session's device through the state machine and applies the
   * effects for the whole batch at once: one UPDATE ends the sessions, one ChangeTracker call
   * re-renders and queues the resyncs, one audit entry records the batch (each session's end
   * is in the sessions table). A session another sweep ended meanwhile is left alone.
   */
  private endBatch(batch: readonly SessionWithDevice[], event: DeviceEvent, reason: EndReason, now: number): number {
    const ending: number[] = [];
    const renderIds: number[] = [];
    const renderMacs: Mac[] = [];
    for (const session of batch) {
      const { device } = session;
      if (!device) {
        ending.push(session.id); // its device is gone: nothing to render
        continue;
      }
      const snapshot: DeviceSnapshot = {
        owner: device.ownerExtension,
        hotdeskEnabled: device.hotdeskEnabled,
        guest: { extension: session.extension, startedAt: session.startedAt, endsAt: session.endsAt },
      };
      const result = transition(snapshot, event);
      if (!result.ok || !result.effects.some((e) => e.type === 'end-session' && e.reason === reason)) continue;
      ending.push(session.id);
      if (result.effects.some((e) => e.type === 'rerender' || e.type === 'notify')) {
        renderIds.push(session.id);
        renderMacs.push(session.mac);
      }
    }
    const ended = this.d.stores.sessions.finishMany(ending, now, reason);
    // Inside this transaction every session just read is still active, so normally all end; only
    // when some did not (another writer got there first) is the list filtered.
    let macs = renderMacs;
    if (ended.length !== ending.length) {
      const still = new Set(ended);
      macs = renderMacs.filter((_, i) => still.has(renderIds[i]!));
    }
    this.d.changes.changed(macs, `hotdesk.sweep.${reason}`);
    if (ended.length > 0) this.d.audit.record({ actor: SYSTEM, action: `hotdesk.sweep.${reason}`, target: 'sessions', after: { ended: ended.length, reason } });
    return ended.length;
  }
}
