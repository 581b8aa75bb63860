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

/** A session with what the hot-desk state machine needs of its device (null when the device is gone). */
export interface SessionWithDevice extends SessionRecord {
  device: { ownerExtension: string | null; hotdeskEnabled: boolean } | null;
}

interface JoinedRow extends Row {
  d_mac: string | null;
  d_owner: string | null;
  d_hotdesk: number | null;
}

const toJoined = (r: JoinedRow): SessionWithDevice => ({
  ...toSession(r),
  device: r.d_mac === null ? null : { ownerExtension: r.d_owner, hotdeskEnabled: r.d_hotdesk === 1 },
});

const JOINED = `SELECT s.id, s.mac, s.extension, s.started_at, s.ends_at, s.ended_at, s.end_reason,
  d.mac AS d_mac, d.owner_extension AS d_owner, d.hotdesk_enabled AS d_hotdesk
  FROM sessions s LEFT JOIN devices d ON d.mac = s.mac`;

export interface SessionFilter {
  active?: boolean;
  mac?: string;
  extension?: string;
  from?: number;
  to?: number;
}

export class SessionStore {
  private readonly activeByMac;
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
    this.activeByUser = db.prepare<[string], Row>('SELECT * FROM sessions WHERE extension = ? AND ended_at IS NULL ORDER BY started_at');
    this.ins = db.prepare('INSERT INTO sessions (mac, extension, started_at, ends_at) VALUES (?, ?, ?, ?)');
    this.end = db.prepare('UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL');
    this.expired = db.prepare<[number, number], Row>(
      'SELECT * FROM sessions WHERE ended_at IS NULL AND ends_at IS NOT NULL AND ends_at <= ? ORDER BY ends_at LIMIT ?',
    );
    this.activeCount = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM sessions WHERE ended_at IS NULL');
    // Sessions a daily logout at `cut` ends: started before it and not timed out by then.
    this.startedBefore = db.prepare<[number, number, number], JoinedRow>(
      `${JOINED} WHERE s.ended_at IS NULL AND s.started_at < ? AND (s.ends_at IS NULL OR s.ends_at > ?)
       ORDER BY s.started_at LIMIT ?`,
    );
    this.endMany = db.prepare<[number, string, string], { id: number }>(
      `UPDATE sessions SET ended_at = ?, end_reason = ? WHERE id IN (SELECT value FROM json_each(?)) AND ended_at IS NULL RETURNING id`,
    );
    this.expiredJoined = db.prepare<[number, number], JoinedRow>(
      `${JOINED} WHERE s.ended_at IS NULL AND s.ends_at IS NOT NULL AND s.ends_at <= ? ORDER BY s.ends_at LIMIT ?`,
    );
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
  finishMany(ids: readonly number[], endedAt: number, reason: EndReason): Set<number> {
    if (ids.length === 0) return new Set();
    return new Set(this.endMany.all(endedAt, reason, JSON.stringify(ids)).map((r) => r.id));
  }

  expiredBy(now: number, limit: number): SessionRecord[] {
    return this.expired.all(now, limit).map(toSession);
  }

  /** Active sessions started before `cut` that had not timed out by then (daily logout), with their device. */
  activeStartedBefore(cut: number, limit: number): SessionWithDevice[] {
    return this.startedBefore.all(cut, cut, limit).map(toJoined);
  }

  /** Like `expiredBy`, with each session's device (one query per sweep batch). */
  expiredWithDevice(now: number, limit: number): SessionWithDevice[] {
    return this.expiredJoined.all(now, limit).map(toJoined);
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
