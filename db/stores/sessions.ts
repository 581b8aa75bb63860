import type { Db } from '../index.js';
import type { Mac } from '../../server/domain/mac.js';

export type EndReason = 'logout' | 'timeout' | 'daily' | 'displaced' | 'admin' | 'owner' | 'user-deleted' | 'device-deleted';

export interface SessionRecord {
  id: number;
  mac: Mac;
  extension: string;
  startedAt: number;
  endsAt: number | null;
  endedAt: number | null;
  endReason: EndReason | null;
}

interface Row {
  id: number;
  mac: string;
  extension: string;
  started_at: number;
  ends_at: number | null;
  ended_at: number | null;
  end_reason: string | null;
}

const toSession = (r: Row): SessionRecord => ({
  id: r.id,
  mac: r.mac as Mac,
  extension: r.extension,
  startedAt: r.started_at,
  endsAt: r.ends_at,
  endedAt: r.ended_at,
  endReason: r.end_reason as EndReason | null,
});

/**
 * An active session as the sweep reads it: what the hot-desk state machine needs of the
 * session and of its device (null when the device is gone). Only active sessions are read, so
 * there is no end time or reason.
 */
export interface SessionWithDevice {
  id: number;
  mac: Mac;
  extension: string;
  startedAt: number;
  endsAt: number | null;
  device: { ownerExtension: string | null; hotdeskEnabled: boolean } | null;
}

/** The sweep reads rows as arrays in this column order (better-sqlite3 builds named rows much slower). */
type SweepRow = [id: number, mac: string, extension: string, startedAt: number, endsAt: number | null, owner: string | null, hotdesk: number | null];

const toSweep = (r: SweepRow): SessionWithDevice => ({
  id: r[0],
  mac: r[1] as Mac,
  extension: r[2],
  startedAt: r[3],
  endsAt: r[4],
  // devices.hotdesk_enabled is NOT NULL, so null here means the LEFT JOIN found no device.
  device: r[6] === null ? null : { ownerExtension: r[5], hotdeskEnabled: r[6] === 1 },
});

// The sweep's reads: only the columns it uses (it reads 100,000 rows in one big sweep).
const SWEEP_COLUMNS = 's.id, s.mac, s.extension, s.started_at, s.ends_at, d.owner_extension, d.hotdesk_enabled';
const WITH_DEVICE = 'LEFT JOIN devices d ON d.mac = s.mac';
const ACTIVE_BY_END = 'SELECT id, mac, extension, started_at, ends_at FROM sessions INDEXED BY sessions_active_by_end WHERE ended_at IS NULL';

export interface SessionFilter {
  active?: boolean;
  mac?: string;
  extension?: string;
  from?: number;
  to?: number;
}

export class SessionStore {
  private readonly activeByMac;
  private readonly activeMacs_;
  private readonly activeByUser;
  private readonly ins;
  private readonly end;
  private readonly expired;
  private readonly activeCount;
  private readonly startedBefore;
  private readonly expiredJoined;
  private readonly endMany;

  constructor(private readonly db: Db) {
    this.activeByMac = db.prepare<[string], Row>('SELECT * FROM sessions WHERE mac = ? AND ended_at IS NULL');
    this.activeMacs_ = db.prepare<[], string>('SELECT mac FROM sessions WHERE ended_at IS NULL').pluck();
    this.activeByUser = db.prepare<[string], Row>('SELECT * FROM sessions WHERE extension = ? AND ended_at IS NULL ORDER BY started_at');
    this.ins = db.prepare('INSERT INTO sessions (mac, extension, started_at, ends_at) VALUES (?, ?, ?, ?)');
    this.end = db.prepare('UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL');
    this.expired = db.prepare<[number, number], Row>(
      'SELECT * FROM sessions WHERE ended_at IS NULL AND ends_at IS NOT NULL AND ends_at <= ? ORDER BY ends_at LIMIT ?',
    );
    this.activeCount = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM sessions WHERE ended_at IS NULL');
    // Sessions a daily logout at `cut` ends: started before it and not timed out by then, read
    // through the index of active sessions by end (its two ranges: no timeout, and ending after
    // `cut`). Left to itself the planner took sessions_history, which holds every session ever
    // started: each batch then walked past all the ended ones (100-460 ms a batch with 500,000).
    this.startedBefore = db.prepare<[{ cut: number; limit: number }], SweepRow>(
      `SELECT ${SWEEP_COLUMNS} FROM (
         ${ACTIVE_BY_END} AND ends_at IS NULL AND started_at < @cut
         UNION ALL
         ${ACTIVE_BY_END} AND ends_at > @cut AND started_at < @cut
       ) s ${WITH_DEVICE} LIMIT @limit`,
    ).raw(true);
    this.endMany = db.prepare<[number, string, string], number>(
      `UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id IN (SELECT value FROM json_each(?)) AND ended_at IS NULL RETURNING id`,
    ).pluck();
    this.expiredJoined = db.prepare<[number, number], SweepRow>(
      `SELECT ${SWEEP_COLUMNS} FROM sessions s ${WITH_DEVICE}
       WHERE s.ended_at IS NULL AND s.ends_at IS NOT NULL AND s.ends_at <= ? ORDER BY s.ends_at LIMIT ?`,
    ).raw(true);
  }

  /** Every device with an active session, in one read (the fleet summary; activeOn reads one). */
  activeMacs(): Set<string> {
    return new Set(this.activeMacs_.all());
  }

  activeOn(mac: string): SessionRecord | null {
    const r = this.activeByMac.get(mac);
    return r ? toSession(r) : null;
  }

  activeFor(extension: string): SessionRecord[] {
    return this.activeByUser.all(extension).map(toSession);
  }

  start(mac: string, extension: string, startedAt: number, endsAt: number | null): number {
    return Number(this.ins.run(mac, extension, startedAt, endsAt).lastInsertRowid);
  }

  /** Ends an active session; false when it had already ended (so overlapping sweeps are harmless). */
  finish(id: number, endedAt: number, reason: EndReason): boolean {
    return this.end.run(endedAt, reason, id).changes === 1;
  }

  /** Ends many active sessions with one reason; returns the ids that were still active (and now ended). */
  finishMany(ids: readonly number[], endedAt: number, reason: EndReason): number[] {
    if (ids.length === 0) return [];
    return this.endMany.all(endedAt, reason, JSON.stringify(ids));
  }

  expiredBy(now: number, limit: number): SessionRecord[] {
    return this.expired.all(now, limit).map(toSession);
  }

  /** Active sessions started before `cut` that had not timed out by then (daily logout), with their device. */
  activeStartedBefore(cut: number, limit: number): SessionWithDevice[] {
    return this.startedBefore.all({ cut, limit }).map(toSweep);
  }

  /** Like `expiredBy`, with each session's device (one query per sweep batch). */
  expiredWithDevice(now: number, limit: number): SessionWithDevice[] {
    return this.expiredJoined.all(now, limit).map(toSweep);
  }

  countActive(): number {
    return this.activeCount.get()?.n ?? 0;
  }

  list(filter: SessionFilter, limit = 500, offset = 0): SessionRecord[] {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit, offset };
    if (filter.active === true) where.push('ended_at IS NULL');
    if (filter.active === false) where.push('ended_at IS NOT NULL');
    if (filter.mac !== undefined) { where.push('mac = @mac'); params.mac = filter.mac; }
    if (filter.extension !== undefined) { where.push('extension = @extension'); params.extension = filter.extension; }
    if (filter.from !== undefined) { where.push('started_at >= @from'); params.from = filter.from; }
    if (filter.to !== undefined) { where.push('started_at < @to'); params.to = filter.to; }
    const sql = `SELECT * FROM sessions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY started_at DESC, id DESC LIMIT @limit OFFSET @offset`;
    return (this.db.prepare(sql).all(params) as Row[]).map(toSession);
  }
}
