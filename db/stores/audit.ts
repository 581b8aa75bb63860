/** The append-only audit log (a trigger refuses UPDATE and DELETE). */
import type { Db } from '../index.js';

export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  role: string;
  action: string;
  target: string;
  /** JSON text, secrets already masked. */
  before: string | null;
  after: string | null;
}

export interface AuditQuery {
  actor?: string;
  /** Exact action, or a prefix ending in "." (e.g. "user."). */
  action?: string;
  target?: string;
  since?: number;
  until?: number;
  /** Rows with an id below this (paging backwards from the newest). */
  beforeId?: number;
  limit: number;
}

export class AuditStore {
  private readonly ins;

  constructor(private readonly db: Db) {
    this.ins = db.prepare(`INSERT INTO audit_log (at, actor, role, action, target, before, after)
      VALUES (@at, @actor, @role, @action, @target, @before, @after)`);
  }

  append(row: Omit<AuditRow, 'id'>): void {
    this.ins.run(row);
  }

  /** Newest first. */
  query(q: AuditQuery): AuditRow[] {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: q.limit };
    if (q.actor !== undefined) { where.push('actor = @actor'); params.actor = q.actor; }
    if (q.action !== undefined) {
      if (q.action.endsWith('.')) { where.push(`action LIKE @action ESCAPE '\\'`); params.action = `${q.action.replace(/[\\%_]/g, (c) => `\\${c}`)}%`; }
      else { where.push('action = @action'); params.action = q.action; }
    }
    if (q.target !== undefined) { where.push('target = @target'); params.target = q.target; }
    if (q.since !== undefined) { where.push('at >= @since'); params.since = q.since; }
    if (q.until !== undefined) { where.push('at < @until'); params.until = q.until; }
    if (q.beforeId !== undefined) { where.push('id < @beforeId'); params.beforeId = q.beforeId; }
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`;
    return this.db.prepare(sql).all(params) as AuditRow[];
  }
}
