import type { Db } from '../index.js';
import type { Mac } from '../../server/domain/mac.js';

/** What the dispatcher did with a NOTIFY answer (see migration 004). */
export type NotifyOutcome = 'ok' | 'retry' | 'gave-up' | 'answered' | 'no-target' | 'invalid';

export interface NotifyLogEntry {
  mac: Mac;
  at: number;
  event: string;
  /** Where it went, e.g. `udp:10.0.0.5:5060` (`via udp:pbx:5060` appended with a proxy); '' when nowhere. */
  target: string;
  /** Final SIP status, a local 408/503, or 0 when nothing was sent. */
  status: number;
  reason: string;
  transmissions: number;
  elapsedMs: number;
  configVersion: number | null;
  outcome: NotifyOutcome;
}

interface Row {
  mac: string;
  at: number;
  event: string;
  target: string;
  status: number;
  reason: string;
  transmissions: number;
  elapsed_ms: number;
  config_version: number | null;
  outcome: string | null;
}

const OUTCOMES: ReadonlySet<string> = new Set<NotifyOutcome>(['ok', 'retry', 'gave-up', 'answered', 'no-target', 'invalid']);

const toEntry = (r: Row): NotifyLogEntry => ({
  mac: r.mac as Mac,
  at: r.at,
  event: r.event,
  target: r.target,
  status: r.status,
  reason: r.reason,
  transmissions: r.transmissions,
  elapsedMs: r.elapsed_ms,
  configVersion: r.config_version,
  outcome: r.outcome !== null && OUTCOMES.has(r.outcome)
    ? (r.outcome as NotifyOutcome)
    : r.status >= 200 && r.status < 300 ? 'ok' : 'answered',
});

export interface NotifySummary {
  total: number;
  byOutcome: Record<NotifyOutcome, number>;
  lastAt: number | null;
}

/** History of NOTIFYs sent to each device, kept to the last `keepPerDevice` rows per device. */
export class NotifyLogStore {
  private readonly ins;
  private readonly prune;
  private readonly history_;
  private readonly summary_;
  private readonly lastAt_;
  private readonly lastOf_;

  constructor(db: Db, private readonly keepPerDevice = 50) {
    this.ins = db.prepare(`INSERT INTO notify_log (mac, at, event, target, status, reason, transmissions, elapsed_ms, config_version, outcome)
      VALUES (@mac, @at, @event, @target, @status, @reason, @transmissions, @elapsedMs, @configVersion, @outcome)`);
    this.prune = db.prepare<[string, string, number]>(`DELETE FROM notify_log WHERE mac = ? AND id <= coalesce(
      (SELECT id FROM notify_log WHERE mac = ? ORDER BY id DESC LIMIT 1 OFFSET ?), 0)`);
    this.history_ = db.prepare<[string, number], Row>('SELECT * FROM notify_log WHERE mac = ? ORDER BY id DESC LIMIT ?');
    this.summary_ = db.prepare<[number], { outcome: string | null; status: number; n: number }>(
      'SELECT outcome, status, count(*) AS n FROM notify_log WHERE at >= ? GROUP BY outcome, status');
    this.lastAt_ = db.prepare<[], { at: number | null }>('SELECT max(at) AS at FROM notify_log');
    this.lastOf_ = db.prepare<[string], Row>(`SELECT n.* FROM notify_log n JOIN (SELECT mac, max(id) AS id FROM notify_log
      WHERE mac IN (SELECT value FROM json_each(?)) GROUP BY mac) m ON n.id = m.id`);
  }

  insert(e: NotifyLogEntry): void {
    this.ins.run(e);
    this.prune.run(e.mac, e.mac, this.keepPerDevice);
  }

  /** Newest first. */
  history(mac: string, limit = 10): NotifyLogEntry[] {
    return this.history_.all(mac, limit).map(toEntry);
  }

  last(mac: string): NotifyLogEntry | null {
    return this.history(mac, 1)[0] ?? null;
  }

  /** last() of many devices in one query: MAC → newest entry (devices never notified are absent). */
  lastOf(macs: readonly string[]): Map<string, NotifyLogEntry> {
    const rows = this.lastOf_.all(JSON.stringify(macs));
    return new Map(rows.map((r) => [r.mac, toEntry(r)]));
  }

  /** Counts by outcome of the NOTIFYs logged since `since` (ms). */
  summary(since: number): NotifySummary {
    const byOutcome: Record<NotifyOutcome, number> = { ok: 0, retry: 0, 'gave-up': 0, answered: 0, 'no-target': 0, invalid: 0 };
    let total = 0;
    for (const r of this.summary_.all(since)) {
      const outcome = toEntry({ mac: '', at: 0, event: '', target: '', reason: '', transmissions: 0, elapsed_ms: 0, config_version: null, ...r }).outcome;
      byOutcome[outcome] += r.n;
      total += r.n;
    }
    return { total, byOutcome, lastAt: this.lastAt_.get()?.at ?? null };
  }
}
