/**
 * Admin console sign-ins. The caller hands in the SHA-256 hash of the session id; the id itself
 * (the cookie value) is never stored.
 */
import type { Db } from '../index.js';
import type { Actor, Role } from '../../server/services/audit.js';

export interface ConsoleSession {
  idHash: string;
  actor: Actor;
  csrfToken: string;
  createdAt: number;
  expiresAt: number;
}

interface Row {
  id_hash: string;
  actor_name: string;
  actor_role: string;
  csrf_token: string;
  created_at: number;
  expires_at: number;
}

const ROLES: ReadonlySet<string> = new Set<Role>(['admin', 'pbx', 'readonly']);

const toSession = (r: Row): ConsoleSession | null =>
  ROLES.has(r.actor_role)
    ? {
        idHash: r.id_hash,
        actor: { name: r.actor_name, role: r.actor_role as Role },
        csrfToken: r.csrf_token,
        createdAt: r.created_at,
        expiresAt: r.expires_at,
      }
    : null;

export class ConsoleSessionStore {
  private readonly ins;
  private readonly one;
  private readonly del;
  private readonly purge;
  private readonly byActor;

  constructor(db: Db) {
    this.ins = db.prepare(`INSERT INTO console_sessions (id_hash, actor_name, actor_role, csrf_token, created_at, expires_at)
      VALUES (@idHash, @name, @role, @csrfToken, @createdAt, @expiresAt)`);
    this.one = db.prepare<[string, number], Row>('SELECT * FROM console_sessions WHERE id_hash = ? AND expires_at > ?');
    this.del = db.prepare('DELETE FROM console_sessions WHERE id_hash = ?');
    this.purge = db.prepare('DELETE FROM console_sessions WHERE expires_at <= ?');
    this.byActor = db.prepare('DELETE FROM console_sessions WHERE actor_name = ?');
  }

  insert(s: ConsoleSession): void {
    this.ins.run({ idHash: s.idHash, name: s.actor.name, role: s.actor.role, csrfToken: s.csrfToken, createdAt: s.createdAt, expiresAt: s.expiresAt });
  }

  /** The session with this id hash, unless it has expired by `now`. */
  find(idHash: string, now: number): ConsoleSession | null {
    const r = this.one.get(idHash, now);
    return r ? toSession(r) : null;
  }

  delete(idHash: string): boolean {
    return this.del.run(idHash).changes === 1;
  }

  /** Signs out everyone who signed in with the named token (it was rotated or revoked). */
  deleteForActor(name: string): number {
    return this.byActor.run(name).changes;
  }

  /** Drops every session that expired by `now`; returns how many. */
  deleteExpired(now: number): number {
    return this.purge.run(now).changes;
  }
}
