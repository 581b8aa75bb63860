/**
 * The closed loop of a resync, as the API shows it on each device: the config version wanted,
 * the version last fetched, the last NOTIFY and its answer, and whether the phone came back to
 * fetch after it. `stale`: the phone answered 2xx but has not fetched within `staleAfter`.
 */
import type { DeviceRecord } from '../../db/stores/devices.js';
import type { NotifyLogEntry, NotifyLogStore } from '../../db/stores/notify-log.js';
import type { OutboxEntry, OutboxStore } from '../../db/stores/outbox.js';
import type { Clock } from './clock.js';

export interface NotifyView {
  at: string;
  event: string;
  target: string;
  status: number;
  reason: string;
  outcome: string;
  transmissions: number;
  elapsedMs: number;
  configVersion: number | null;
}

export interface DeviceSync {
  configVersion: number;
  fetchedVersion: number | null;
  lastNotify: Pick<NotifyView, 'at' | 'event' | 'status' | 'reason' | 'transmissions'> | null;
  fetchedAfterNotify: boolean;
  stale: boolean;
  /** A resync is queued (or being retried) in the outbox. */
  pending: boolean;
  /** When pending: tries so far and when the next one is due. */
  attempts: number;
  nextAttemptAt: string | null;
}

export const notifyView = (e: NotifyLogEntry): NotifyView => ({
  at: new Date(e.at).toISOString(),
  event: e.event,
  target: e.target,
  status: e.status,
  reason: e.reason,
  outcome: e.outcome,
  transmissions: e.transmissions,
  elapsedMs: e.elapsedMs,
  configVersion: e.configVersion,
});

export class SyncStatus {
  constructor(
    private readonly notifyLog: NotifyLogStore,
    private readonly outbox: OutboxStore,
    private readonly clock: Clock,
    private readonly staleAfterMs: number,
  ) {}

  of(d: DeviceRecord): DeviceSync {
    return this.status(d, this.notifyLog.last(d.mac), this.outbox.get(d.mac));
  }

  /** of() for each of `ds`, with the NOTIFY log and the outbox read in one query each. */
  ofMany(ds: readonly DeviceRecord[]): DeviceSync[] {
    const macs = ds.map((d) => d.mac);
    const last = this.notifyLog.lastOf(macs);
    const queued = this.outbox.getMany(macs);
    return ds.map((d) => this.status(d, last.get(d.mac) ?? null, queued.get(d.mac) ?? null));
  }

  private status(d: DeviceRecord, last: NotifyLogEntry | null, queued: OutboxEntry | null): DeviceSync {
    const fetchedAt = d.lastFetch?.at ?? null;
    const fetchedAfterNotify = last !== null && fetchedAt !== null && fetchedAt > last.at;
    const answeredOk = last !== null && last.status >= 200 && last.status < 300;
    return {
      configVersion: d.configVersion,
      fetchedVersion: d.fetchedVersion,
      lastNotify: last && {
        at: new Date(last.at).toISOString(),
        event: last.event,
        status: last.status,
        reason: last.reason,
        transmissions: last.transmissions,
      },
      fetchedAfterNotify,
      stale: answeredOk && !fetchedAfterNotify && this.clock.now() - last.at >= this.staleAfterMs,
      pending: queued !== null,
      attempts: queued?.attempts ?? 0,
      nextAttemptAt: queued ? new Date(queued.notBefore).toISOString() : null,
    };
  }
}
