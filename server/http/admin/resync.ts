/**
 * Resync routes (CONTRACT §4–5): one device (admin or a PBX token), many devices by filter
 * (admin), and the queue/NOTIFY status the dashboard shows. Every resync goes through the
 * durable outbox, so the same throttle applies to one phone and to 10,000.
 * Mount before the generic devices router.
 */
import { Router } from 'express';
import { z } from 'zod';
import type { Context } from '../../context.js';
import type { Mac } from '../../domain/mac.js';
import { AppError, notFound } from '../../errors.js';
import { macSchema } from '../../schemas.js';
import { actorOf, allow } from '../auth.js';
import { parseWith } from '../validation.js';
import { macParam } from './devices.js';

const bulkSchema = z.strictObject({
  vendor: z.string().min(1).max(32).optional(),
  model: z.string().min(1).max(40).optional(),
  locationId: z.number().int().positive().optional(),
  macs: z.array(macSchema).min(1).max(20_000).optional(),
  /** Every device: has to be said explicitly, an empty filter is refused. */
  all: z.literal(true).optional(),
}).refine((b) => b.all === true || b.vendor !== undefined || b.model !== undefined || b.locationId !== undefined || b.macs !== undefined, {
  message: 'give at least one of vendor, model, locationId, macs (or "all": true)',
});

const HOUR = 3600_000;

export function resyncRouter(ctx: Context): Router {
  const r = Router();
  const { stores, changes, audit } = ctx;

  r.post('/devices/:mac/resync', allow('pbx'), (req, res) => {
    const mac = macParam(req.params.mac);
    const actor = actorOf(res.locals);
    stores.tx(() => {
      if (!stores.devices.get(mac)) throw notFound(`device ${mac}`);
      changes.resync([mac], `resync by ${actor.name}`);
      audit.record({ actor, action: 'device.resync', target: `device:${mac}` });
    });
    res.status(202).json({ queued: 1 });
  });

  r.post('/resync', allow(), (req, res) => {
    const body = parseWith(bulkSchema, req.body ?? {});
    const actor = actorOf(res.locals);
    const queued = stores.tx(() => {
      const filter = {
        ...(body.vendor !== undefined ? { vendor: body.vendor } : {}),
        ...(body.model !== undefined ? { model: body.model } : {}),
        ...(body.locationId !== undefined ? { locationId: body.locationId } : {}),
      };
      let macs: Mac[] = stores.devices.list(filter, Number.MAX_SAFE_INTEGER, 0).map((d) => d.mac);
      if (body.macs !== undefined) {
        const known = new Set(macs);
        const unknown = body.macs.filter((m) => !known.has(m) && stores.devices.get(m) === null);
        if (unknown.length > 0) {
          throw new AppError(404, 'not_found', `${unknown.length} unknown device(s): ${unknown.slice(0, 20).join(', ')}`, { unknown });
        }
        const wanted = new Set(body.macs);
        macs = macs.filter((m) => wanted.has(m));
      }
      const n = changes.resync(macs, `bulk resync by ${actor.name}`);
      audit.record({ actor, action: 'device.resync-bulk', target: 'devices', after: { ...body, queued: n } });
      return n;
    });
    res.status(202).json({ queued });
  });

  r.get('/status', allow('readonly'), (_req, res) => {
    const now = ctx.clock.now();
    const hour = stores.notifyLog.summary(now - HOUR);
    const resync = ctx.resync?.stats() ?? null;
    res.json({
      outboxDepth: stores.outbox.depth(),
      activeSessions: stores.sessions.countActive(),
      devices: stores.devices.count(),
      notifies: {
        lastHour: { total: hour.total, ...hour.byOutcome },
        lastAt: hour.lastAt === null ? null : new Date(hour.lastAt).toISOString(),
        dispatcher: resync,
      },
    });
  });
  return r;
}
