/** Bearer-token authentication and role checks for the admin API. */
import type { RequestHandler } from 'express';
import { forbidden, tooMany, unauthorized } from '../errors.js';
import type { Actor, Role } from '../services/audit.js';
import type { EnumerationGuard } from '../services/enumeration-guard.js';
import type { Authenticator } from '../services/tokens.js';

declare module 'express-serve-static-core' {
  interface Locals {
    actor?: Actor;
    reqId?: string;
  }
}

/**
 * `Authorization: Bearer <token>`. With a `guard`, every wrong token counts against the client
 * IP; a blocked IP gets 429 with Retry-After (even with a right token) until the block ends.
 */
export function bearerAuth(auth: Authenticator, guard?: EnumerationGuard): RequestHandler {
  return (req, res, next) => {
    if (res.locals.actor) return next();
    const raw = req.ip ?? req.socket.remoteAddress ?? '';
    const ip = raw.startsWith('::ffff:') ? raw.slice(7) : raw;
    const blocked = guard?.blockedFor(ip) ?? 0;
    if (blocked > 0) return next(tooMany('too many failed token attempts from this address', Math.ceil(blocked / 1000)));
    const header = req.headers.authorization;
    const m = header ? /^Bearer ([A-Za-z0-9._~+/=-]{1,256})$/.exec(header) : null;
    const actor = m ? auth.authenticate(m[1]!) : null;
    if (!actor) {
      if (header !== undefined) guard?.fail(ip, 'admin-token');
      return next(unauthorized());
    }
    res.locals.actor = actor;
    next();
  };
}

/** Allows the listed roles; `admin` is always allowed. */
export function allow(...roles: Role[]): RequestHandler {
  return (_req, res, next) => {
    const actor = res.locals.actor;
    if (!actor) return next(unauthorized());
    if (actor.role === 'admin' || roles.includes(actor.role)) return next();
    next(forbidden(`role ${actor.role} may not do this`));
  };
}

export function actorOf(locals: { actor?: Actor }): Actor {
  if (!locals.actor) throw unauthorized();
  return locals.actor;
}
