/**
 * GET /api/v1/devices/:mac/line — the SIP settings of the device's current line (guest, else
 * owner), for setting up a third-party SIP device by hand. Admin only, never cached, audited.
 */
import { Router } from 'express';
import type { Context } from '../../context.js';
import { notFound } from '../../errors.js';
import { actorOf, allow } from '../auth.js';
import { macParam } from './devices.js';

export function deviceLineRouter(ctx: Pick<Context, 'devices' | 'views' | 'audit' | 'stores'>): Router {
  const r = Router();
  r.get('/:mac/line', allow(), (req, res) => {
    const device = ctx.devices.get(macParam(req.params.mac));
    const view = ctx.views.build(device);
    if (!view.line) throw notFound(`line of device ${device.mac} (the device is unassigned, so it has none)`);
    const line = view.line;
    ctx.stores.tx(() =>
      ctx.audit.record({ actor: actorOf(res.locals), action: 'device.line.reveal', target: `device:${device.mac}`, after: { extension: line.extension } }),
    );
    res.set('Cache-Control', 'no-store').json({
      server: view.pbx.host,
      port: view.pbx.port,
      transport: view.pbx.transport,
      outboundProxy: view.pbx.outboundProxy,
      userId: line.authUser,
      password: line.password,
      extension: line.extension,
      displayName: line.displayName,
      state: view.state,
    });
  });
  return r;
}
