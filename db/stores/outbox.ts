import type { Db } from '../index.js';
import type { Mac } from '../../server/domain/mac.js';

export interface OutboxEntry {
  mac: Mac;
  reason: string;
  queuedAt: number;
  notBefore: number;
  attempts: number;
  lastStatus: number | null;
}

interface Row {
  mac: string;
  reason: string;
  queued_at: number;
  not_before: number;
  attempts: number;
  last_status: number | null;
}

const toEntry = (r: Row): OutboxEntry => ({
  mac: r.mac as Mac,
  reason: r.reason,
  queuedAt: r.queued_at,
  notBefore: r.not_before,
  attempts: r.attempts,
  lastStatus: r.last_status,
});

/**
 * The durable resync queue. Writers call `enqueue` inside the transaction that made the
 * change, so a change and its NOTIFY are committed together or not at all.
 */
export class OutboxStore {
  private readonly ins;
  private readonly insMany;
  private readonly depth_;
  private readonly due_;
  private readonly get_;
  private readonly getMany_;
  private readonly del_;
  private readonly retry_;

  constructor(db: Db) {
    // A second resync for a device already waiting collapses into the pending one and is due now.
    this.ins = db.prepare(`INSERT INTO outbox (mac, reason, queued_at, not_before) VALUES (?, ?, ?, ?)
      ON CONFLICT (mac) DO UPDATE SET reason = excluded.reason, queued_at = excluded.queued_at,
      not_before = min(not_before, excluded.not_before),
      attempts = 0`);
    this.insMany = db.prepare(`INSERT INTO outbox (mac, reason, queued_at, not_before)
      SELECT value, @reason, @now, @now FROM json_each(@macs) WHERE true
      ON CONFLICT (mac) DO UPDATE SET reason = excluded.reason, queued_at = excluded.queued_at,
      not_before = min(not_before, excluded.not_before), attempts = 0`);
    this.depth_ = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM outbox');
    this.due_ = db.prepare<[number, number], Row>('SELECT * FROM outbox WHERE not_before <= ? ORDER BY not_before, queued_at LIMIT ?');
    this.get_ = db.prepare<[string], Row>('SELECT * FROM outbox WHERE mac = ?');
    this.getMany_ = db.prepare<[string], Row>('SELECT * FROM outbox WHERE mac IN (SELECT value FROM json_each(?))');
    this.del_ = db.prepare('DELETE FROM outbox WHERE mac = ? AND queued_at = ?');
    this.retry_ = db.prepare('UPDATE outbox SET attempts = attempts + 1, last_status = ?, not_before = ? WHERE mac = ?');
  }

  enqueue(mac: Mac, reason: string, now: number): void {
    this.ins.run(mac, reason, now, now);
  }

  /** The same as `enqueue` for many devices, in one statement. */
  enqueueMany(macs: readonly Mac[], reason: string, now: number): void {
    if (macs.length === 1) return this.enqueue(macs[0]!, reason, now);
    this.insMany.run({ macs: JSON.stringify(macs), reason, now });
  }

  depth(): number {
    return this.depth_.get()?.n ?? 0;
  }

  due(now: number, limit: number): OutboxEntry[] {
    return this.due_.all(now, limit).map(toEntry);
  }

  /** get() of many devices in one query: MAC → entry (devices with nothing queued are absent). */
  getMany(macs: readonly string[]): Map<string, OutboxEntry> {
    const rows = this.getMany_.all(JSON.stringify(macs));
    return new Map(rows.map((r) => [r.mac, toEntry(r)]));
  }

  get(mac: string): OutboxEntry | null {
    const r = this.get_.get(mac);
    return r ? toEntry(r) : null;
  }

  /** Remove a sent entry, unless it was re-queued (queued_at changed) while the NOTIFY was in flight. */
  complete(entry: OutboxEntry): void {
    this.del_.run(entry.mac, entry.queuedAt);
  }

  retryLater(mac: Mac, status: number, notBefore: number): void {
    this.retry_.run(status, notBefore, mac);
  }
}
