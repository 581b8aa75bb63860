/**
 * Named admin API tokens with roles (admin, pbx, readonly): create (the token is shown once),
 * list (never a secret), rotate, revoke. `TokenAuthenticator` accepts the bootstrap admin token
 * and every token in the table.
 */
import type { ApiToken, ApiTokenStore } from '../../db/stores/api-tokens.js';
import type { Db } from '../../db/index.js';
import { conflict, invalid, notFound } from '../errors.js';
import type { Actor, AuditSink, Role } from './audit.js';
import type { Clock } from './clock.js';
import { BootstrapTokenAuth, hashToken, newToken, type Authenticator } from './tokens.js';

/** Names the bootstrap token and internal work use; a named token may not take them. */
const RESERVED = new Set(['admin', 'system']);
/** last_used_at is written at most this often per token (no write per API call). */
const TOUCH_EVERY_MS = 60_000;

export function publicToken(t: ApiToken) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return { name: t.name, role: t.role, createdAt: iso(t.createdAt), rotatedAt: iso(t.rotatedAt), lastUsedAt: iso(t.lastUsedAt) };
}

export class TokenService {
  constructor(
    private readonly store: ApiTokenStore,
    private readonly tx: <T>(fn: () => T) => T,
    private readonly audit: AuditSink,
    private readonly clock: Clock,
    /** Called inside the transaction when a token stops working (console sign-ins made with it end). */
    private readonly onRetired: (name: string) => void = () => {},
  ) {}

  list() {
    return this.store.list().map(publicToken);
  }

  /** Returns the new token in clear: the only time anyone sees it. */
  create(name: string, role: Role, actor: Actor): { token: string; info: ReturnType<typeof publicToken> } {
    if (RESERVED.has(name.toLowerCase())) throw invalid(`name: "${name}" is reserved`, { fields: [{ field: 'name', message: 'reserved name' }] });
    return this.tx(() => {
      if (this.store.get(name)) throw conflict(`token ${name} already exists`);
      const token = newToken();
      this.store.insert(name, role, hashToken(token), this.clock.now());
      const info = publicToken(this.store.get(name)!);
      this.audit.record({ actor, action: 'token.create', target: `token:${name}`, after: info });
      return { token, info };
    });
  }

  rotate(name: string, actor: Actor): { token: string; info: ReturnType<typeof publicToken> } {
    return this.tx(() => {
      const before = this.store.get(name);
      if (!before) throw notFound(`token ${name}`);
      const token = newToken();
      this.store.rotate(name, hashToken(token), this.clock.now());
      this.onRetired(name);
      const info = publicToken(this.store.get(name)!);
      this.audit.record({ actor, action: 'token.rotate', target: `token:${name}`, before: publicToken(before), after: info });
      return { token, info };
    });
  }

  revoke(name: string, actor: Actor): void {
    this.tx(() => {
      const before = this.store.get(name);
      if (!before) throw notFound(`token ${name}`);
      this.store.delete(name);
      this.onRetired(name);
      this.audit.record({ actor, action: 'token.revoke', target: `token:${name}`, before: publicToken(before) });
    });
  }
}

/** The bootstrap admin token first, then the named tokens (looked up by hash). */
export class TokenAuthenticator implements Authenticator {
  private readonly bootstrap: BootstrapTokenAuth;
  private readonly touched = new Map<string, number>();

  constructor(
    db: Db,
    private readonly store: ApiTokenStore,
    private readonly clock: Clock,
  ) {
    this.bootstrap = new BootstrapTokenAuth(db);
  }

  authenticate(token: string): Actor | null {
    const boot = this.bootstrap.authenticate(token);
    if (boot) return boot;
    const t = this.store.findByHash(hashToken(token));
    if (!t) return null;
    const now = this.clock.now();
    if (now - (this.touched.get(t.name) ?? -Infinity) >= TOUCH_EVERY_MS) {
      this.touched.set(t.name, now);
      this.store.touch(t.name, now);
    }
    return { name: t.name, role: t.role };
  }
}
