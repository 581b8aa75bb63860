/**
 * Admin API tokens. Only a SHA-256 hash of a token is stored (tokens are 256-bit random, so a
 * slow hash adds nothing); comparison is constant-time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../../db/index.js';
import type { Actor } from './audit.js';

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function newToken(): string {
  return `dp_${randomBytes(32).toString('base64url')}`;
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

export interface Authenticator {
  authenticate(token: string): Actor | null;
}

const SETTING = 'admin.tokenHash';

/**
 * The bootstrap admin token: from config/env if given (its hash replaces the stored one),
 * else generated on first start and returned once so main can print it.
 */
export function ensureAdminToken(db: Db, configured: string | undefined): { generated: string | null } {
  const get = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?');
  const put = db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  if (configured) {
    put.run(SETTING, hashToken(configured));
    return { generated: null };
  }
  if (get.get(SETTING)) return { generated: null };
  const token = newToken();
  put.run(SETTING, hashToken(token));
  return { generated: token };
}

export class BootstrapTokenAuth implements Authenticator {
  private readonly get;
  constructor(db: Db) {
    this.get = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?');
  }
  authenticate(token: string): Actor | null {
    const stored = this.get.get(SETTING)?.value;
    return stored && sameHash(hashToken(token), stored) ? { name: 'admin', role: 'admin' } : null;
  }
}
