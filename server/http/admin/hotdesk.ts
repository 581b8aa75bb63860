/**
 * Hot-desk admin routes (CONTRACT §5): login/logout on a device, the session list, the sweep.
 * The `pbx` role may log in and out (PBX feature codes *91 / *92).
 */
import { Router } from 'express';
import { z } from 'zod';
import type { SessionRecord } from '../../../db/stores/sessions.js';
import type { Context } from '../../context.js';
import { extensionSchema, loginSchema } from '../../schemas.js';
import type { HotdeskService } from '../../services/hotdesk.js';
import { actorOf, allow } from '../auth.js';
import { parseWith } from '../validation.js';
import { macParam } from './devices.js';

/** Optional body of a logout: the guest or owner proving who they are with their PIN. */
const logoutBody = z.union([z.strictObject({}), z.strictObject({ extension: extensionSchema, pin: z.string().max(64) })]);

/** POST /devices/:mac/login and /devices/:mac/logout; mount before the devices router. */
export function hotdeskDeviceRouter(ctx: Context, hotdesk: HotdeskService): Router {
  const r = Router();
  r.post('/:mac/login', allow('pbx'), async (req, res) => {
    const mac = macParam(req.params.mac);
    const body = parseWith(loginSchema, req.body);
    const device = await hotdesk.login(mac, body.extension, body.pin, actorOf(res.locals));
    res.json(ctx.devices.describe(device));
  });
  r.post('/:mac/logout', allow('pbx'), async (req, res) => {
    const mac = macParam(req.params.mac);
    const body = parseWith(logoutBody, req.body ?? {});
    const actor = actorOf(res.locals);
    const device = 'pin' in body
      ? await hotdesk.logoutWithPin(mac, body.extension, body.pin, actor)
      // An admin ends someone's session ('admin'); the PBX does it for the user at the phone ('logout').
      : hotdesk.logout(mac, actor.role === 'pbx' ? 'logout' : 'admin', actor);
    res.json(ctx.devices.describe(device));
  });
  return r;
}

const instant = z.string().max(40).transform((s, c) => {
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) {
    c.addIssue({ code: 'custom', message: 'expected an ISO 8601 date or date-time' });
    return z.NEVER;
  }
  return ms;
});

const sessionQuery = z.strictObject({
  active: z.enum(['true', 'false']).optional(),
  mac: z.string().max(17).optional(),
  extension: extensionSchema.optional(),
  from: instant.optional(),
  to: instant.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(500),
  offset: z.coerce.number().int().min(0).default(0),
});

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** `endsAt` of an active session is when it will end (sessionEndsAt); of an ended one, as planned at its start. */
export function publicSession(s: SessionRecord, endsAt: (s: SessionRecord) => number | null = (x) => x.endsAt) {
  return {
    id: s.id,
    mac: s.mac,
    extension: s.extension,
    active: s.endedAt === null,
    startedAt: iso(s.startedAt),
    endsAt: iso(s.endedAt === null ? endsAt(s) : s.endsAt),
    endedAt: iso(s.endedAt),
    endReason: s.endReason,
  };
}

/** GET /sessions?active=true&mac=&extension=&from=&to= */
export function sessionsRouter(ctx: Context): Router {
  const r = Router();
  r.get('/', allow('readonly', 'pbx'), (req, res) => {
    const q = parseWith(sessionQuery, req.query, 'query');
    const filter = {
      ...(q.active !== undefined ? { active: q.active === 'true' } : {}),
      ...(q.mac !== undefined ? { mac: macParam(q.mac) } : {}),
      ...(q.extension !== undefined ? { extension: q.extension } : {}),
      ...(q.from !== undefined ? { from: q.from } : {}),
      ...(q.to !== undefined ? { to: q.to } : {}),
    };
    res.json({ sessions: ctx.stores.sessions.list(filter, q.limit, q.offset).map((x) => publicSession(x, (y) => ctx.views.sessionEndsAt(y))) });
  });
  return r;
}

/** POST /hotdesk/sweep → {ended: n} */
export function hotdeskRouter(hotdesk: HotdeskService): Router {
  const r = Router();
  r.post('/sweep', allow(), async (_req, res) => {
    res.json({ ended: await hotdesk.sweep() });
  });
  return r;
}
