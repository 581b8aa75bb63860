/**
 * The audit log: an AuditSink that appends to the audit_log table inside the caller's
 * transaction (so a rolled-back change leaves no entry), with every secret masked.
 */
import type { AuditQuery, AuditRow, AuditStore } from '../../db/stores/audit.js';
import { maskSecrets, type AuditEntry, type AuditSink } from './audit.js';
import type { Clock } from './clock.js';

export class SqliteAuditSink implements AuditSink {
  constructor(
    private readonly store: AuditStore,
    private readonly clock: Clock,
  ) {}

  record(e: AuditEntry): void {
    this.store.append({
      at: this.clock.now(),
      actor: e.actor.name,
      role: e.actor.role,
      action: e.action,
      target: e.target,
      before: e.before === undefined ? null : JSON.stringify(maskSecrets(e.before)),
      after: e.after === undefined ? null : JSON.stringify(maskSecrets(e.after)),
    });
  }

  /** Newest first, as the API shows entries. */
  list(q: AuditQuery) {
    return this.store.query(q).map(present);
  }
}

function present(r: AuditRow) {
  return {
    id: r.id,
    at: new Date(r.at).toISOString(),
    actor: r.actor,
    role: r.role,
    action: r.action,
    target: r.target,
    before: r.before === null ? null : (JSON.parse(r.before) as unknown),
    after: r.after === null ? null : (JSON.parse(r.after) as unknown),
  };
}
