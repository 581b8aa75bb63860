/**
 * The admin web console at /admin/: sign in with an admin (or readonly) token, a server-side session behind
 * an HttpOnly SameSite=Strict cookie, CSRF protection for the JSON API it calls, sign out, and
 * the static pages under server/admin-ui/ with strict security headers.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import type { ConsoleSession, ConsoleSessionStore } from '../../db/stores/console-sessions.js';
import { forbidden } from '../errors.js';
import { projectPath } from '../project.js';
import type { EnumerationGuard } from '../services/enumeration-guard.js';
import type { Actor, AuditSink, Role } from '../services/audit.js';
import type { Clock } from '../services/clock.js';
import { hashToken, type Authenticator } from '../services/tokens.js';

export const SESSION_COOKIE = 'dp_session';
export const CSRF_HEADER = 'X-CSRF-Token';
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const UI_DIR = projectPath('server', 'admin-ui');

export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Roles that may sign in to the console (README: the console takes an admin token; a readonly
 * token gets a console that reads). A pbx token is for the PBX's login/logout calls only.
 */
const CONSOLE_ROLES: ReadonlySet<Role> = new Set<Role>(['admin', 'readonly']);

export type SignInResult =
  | { ok: true; id: string; session: ConsoleSession }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'role'; actor: Actor };

/** Console sign-ins: create from an admin (or readonly) token, look up by cookie value, end. */
export class ConsoleAuth {
  constructor(
    private readonly store: ConsoleSessionStore,
    private readonly auth: Authenticator,
    private readonly clock: Clock,
    private readonly audit: AuditSink,
    private readonly ttlMs = SESSION_TTL_MS,
  ) {}

  /**
   * A new session for a valid admin or readonly token (its id is returned once, for the cookie);
   * a token that is not valid, or whose role may not use the console, gets none.
   */
  signIn(token: string): SignInResult {
    const actor = this.auth.authenticate(token);
    if (!actor) return { ok: false, reason: 'invalid' };
    if (!CONSOLE_ROLES.has(actor.role)) return { ok: false, reason: 'role', actor };
    const now = this.clock.now();
    this.store.deleteExpired(now);
    const id = randomBytes(32).toString('base64url');
    const session: ConsoleSession = {
      idHash: hashToken(id),
      actor,
      csrfToken: randomBytes(32).toString('base64url'),
      createdAt: now,
      expiresAt: now + this.ttlMs,
    };
    this.store.insert(session);
    this.audit.record({ actor, action: 'console.sign-in', target: 'console' });
    return { ok: true, id, session };
  }

  lookup(id: string | null): ConsoleSession | null {
    if (!id || !/^[A-Za-z0-9_-]{20,100}$/.test(id)) return null;
    const session = this.store.find(hashToken(id), this.clock.now());
    // A session signed in with a role the console does not take (before that was checked) is void.
    return session && CONSOLE_ROLES.has(session.actor.role) ? session : null;
  }

  signOut(id: string | null): void {
    const session = this.lookup(id);
    if (!session) return;
    this.store.delete(session.idHash);
    this.audit.record({ actor: session.actor, action: 'console.sign-out', target: 'console' });
  }

  now(): number {
    return this.clock.now();
  }
}

/** One cookie's value from a Cookie header (no dependency needed for one name). */
export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/**
 * For /api/v1: with no Authorization header but a valid console cookie, the request acts as the
 * signed-in admin; a changing method must carry the session's CSRF token in X-CSRF-Token.
 * Runs before bearerAuth, which answers 401 when nobody is signed in.
 */
export function consoleCookieAuth(sessions: ConsoleAuth): RequestHandler {
  return (req, res, next) => {
    if (req.headers.authorization !== undefined) return next();
    const session = sessions.lookup(cookieValue(req.headers.cookie, SESSION_COOKIE));
    if (!session) return next();
    if (!SAFE_METHODS.has(req.method)) {
      const sent = req.get(CSRF_HEADER);
      if (!sent || !sameSecret(sent, session.csrfToken)) {
        return next(forbidden(`console requests that change something need the ${CSRF_HEADER} header of the session`));
      }
    }
    res.locals.actor = session.actor;
    next();
  };
}

function securityHeaders(): RequestHandler {
  return (_req, res, next) => {
    res.set({
      'Content-Security-Policy': CONSOLE_CSP,
      'X-Frame-Options': 'DENY',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Resource-Policy': 'same-origin',
    });
    next();
  };
}

/** A cross-site form post carries a foreign Origin: refuse it (login CSRF, forced sign-out). */
function sameOrigin(req: Request): boolean {
  const origin = req.get('origin');
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.get('host');
  } catch {
    return false;
  }
}

function clientIp(req: Request): string {
  const raw = req.ip ?? req.socket.remoteAddress ?? '';
  return raw.startsWith('::ffff:') ? raw.slice(7) : raw;
}

const wantsJson = (req: Request) => req.is('application/json') === 'application/json';

function setSessionCookie(req: Request, res: Response, id: string, maxAgeMs: number): void {
  res.cookie(SESSION_COOKIE, id, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/', maxAge: maxAgeMs });
}

function clearSessionCookie(req: Request, res: Response): void {
  res.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/' });
}

function describe(s: ConsoleSession, now: number) {
  const actor: Actor = s.actor;
  return { actor, csrfToken: s.csrfToken, expiresAt: new Date(s.expiresAt).toISOString(), serverTime: new Date(now).toISOString() };
}

/** The /admin router: pages, sign-in, sign-out and the session the pages read their CSRF token from. */
export function consoleRouter(sessions: ConsoleAuth, guard?: EnumerationGuard): Router {
  const r = Router();
  const page = (name: string) => (_req: Request, res: Response) => {
    res.set('Cache-Control', 'no-store').sendFile(name, { root: UI_DIR });
  };
  const sessionOf = (req: Request) => sessions.lookup(cookieValue(req.headers.cookie, SESSION_COOKIE));
  /** JSON callers get the error; a plain form post goes back to the form with `?error=<page>`. */
  const refuse = (req: Request, res: Response, status: number, code: string, message: string, pageCode = code) => {
    if (wantsJson(req)) res.status(status).json({ error: { code, message } });
    else res.redirect(303, `/admin/login?error=${pageCode}`);
  };

  r.use(securityHeaders());
  r.get(['/', '/index.html'], (req, res) => {
    if (req.originalUrl.split('?')[0] === '/admin') return res.redirect(301, '/admin/');
    if (!sessionOf(req)) return res.redirect(303, '/admin/login');
    page('index.html')(req, res);
  });
  r.get('/login', page('login.html'));

  const forms = [express.urlencoded({ extended: false, limit: '4kb' }), express.json({ limit: '4kb' })];
  r.post('/login', ...forms, (req, res) => {
    if (!sameOrigin(req)) return refuse(req, res, 403, 'forbidden', 'sign-in from another site refused');
    // Wrong tokens count against the address exactly as on the API (one guard, one block list).
    const ip = clientIp(req);
    const blocked = guard?.blockedFor(ip) ?? 0;
    if (blocked > 0) {
      res.set('Retry-After', String(Math.ceil(blocked / 1000)));
      return refuse(req, res, 429, 'too_many_requests', 'too many failed sign-ins from this address; try again later');
    }
    const body: unknown = req.body;
    const token = body && typeof body === 'object' && 'token' in body ? (body as { token: unknown }).token : undefined;
    const signed: SignInResult = typeof token === 'string' && token.length > 0 && token.length <= 256 ? sessions.signIn(token.trim()) : { ok: false, reason: 'invalid' };
    if (!signed.ok && signed.reason === 'invalid') {
      guard?.fail(ip, 'admin-token');
      return refuse(req, res, 401, 'unauthorized', 'that token is not valid');
    }
    if (!signed.ok) {
      // A valid token, so no enumeration failure; but it opens no console session.
      return refuse(req, res, 403, 'forbidden', `a ${signed.actor.role} token cannot sign in to the console: use an admin or readonly token`, 'role');
    }
    setSessionCookie(req, res, signed.id, signed.session.expiresAt - signed.session.createdAt);
    res.set('Cache-Control', 'no-store');
    if (wantsJson(req)) res.json(describe(signed.session, sessions.now()));
    else res.redirect(303, '/admin/');
  });

  r.post('/logout', ...forms, (req, res) => {
    const id = cookieValue(req.headers.cookie, SESSION_COOKIE);
    const session = sessions.lookup(id);
    if (session) {
      const body: unknown = req.body;
      const field = body && typeof body === 'object' && 'csrf' in body ? (body as { csrf: unknown }).csrf : undefined;
      const sent = req.get(CSRF_HEADER) ?? (typeof field === 'string' ? field : undefined);
      if (!sameOrigin(req) || !sent || !sameSecret(sent, session.csrfToken)) {
        res.status(403).json({ error: { code: 'forbidden', message: `sign-out needs the ${CSRF_HEADER} header of the session` } });
        return;
      }
      sessions.signOut(id);
    }
    clearSessionCookie(req, res);
    if (wantsJson(req) || req.get(CSRF_HEADER)) res.status(204).end();
    else res.redirect(303, '/admin/login');
  });

  r.get('/session', (req, res) => {
    const s = sessionOf(req);
    res.set('Cache-Control', 'no-store');
    if (!s) return res.status(401).json({ error: { code: 'unauthorized', message: 'not signed in' } });
    res.json(describe(s, sessions.now()));
  });

  r.use(
    express.static(UI_DIR, {
      index: false,
      redirect: false,
      dotfiles: 'ignore',
      setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache'),
    }),
  );
  return r;
}
