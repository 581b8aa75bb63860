/**
 * The key in a guest's Logout URL. Phone screens take no credentials (a phone's XML browser sends
 * none), so whoever opens /phone/<vendor>/<mac>/logout could end the session of whoever sits
 * there. The guest's own config carries the URL with a key for that one session; without it,
 * logging out takes the guest's or the owner's PIN. Keys are derived, not stored: an HMAC of the
 * session under a secret kept in the database (a new session, a new key).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface KeyedSession {
  id: number;
  mac: string;
  startedAt: number;
}

const KEY_LENGTH = 22;

export class LogoutKeys {
  private secretKey: Buffer | null = null;

  /** `secret(name, make)`: the named secret, made and kept on first use (DownloadAuthStore.secret). */
  constructor(private readonly secret: (name: string, make: () => string) => string) {}

  /**
   * Reads (or makes and keeps) the secret now. Made lazily inside a render's transaction that
   * then rolled back, it would live on in memory but not in the database, and every Logout key
   * would change at the next start.
   */
  prepare(): this {
    this.key();
    return this;
  }

  of(session: KeyedSession): string {
    return createHmac('sha256', this.key()).update(`logout\0${session.id}\0${session.mac}\0${session.startedAt}`).digest('base64url').slice(0, KEY_LENGTH);
  }

  matches(session: KeyedSession, given: unknown): boolean {
    if (typeof given !== 'string' || given.length !== KEY_LENGTH) return false;
    return timingSafeEqual(Buffer.from(given), Buffer.from(this.of(session)));
  }

  private key(): Buffer {
    this.secretKey ??= Buffer.from(this.secret('hotdesk.logoutSecret', () => randomBytes(32).toString('hex')), 'hex');
    return this.secretKey;
  }
}
