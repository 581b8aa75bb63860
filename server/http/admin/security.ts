/**
 * /api/v1/security:
 *   GET    /blocks         addresses blocked now (phone enumeration and failed admin tokens)
 *   DELETE /blocks/:ip     lift a block (audited)
 *   GET    /download-auth  rollout report: devices per mode, and which have not fetched their credentials
 */
import { isIP } from 'node:net';
import { Router } from 'express';
import type { Context } from '../../context.js';
import { invalid, notFound } from '../../errors.js';
import type { Block } from '../../services/enumeration-guard.js';
import { actorOf, allow } from '../auth.js';

export function securityRouter(ctx: Pick<Context, 'guard' | 'adminGuard' | 'downloadAuth' | 'audit' | 'stores' | 'log'>): Router {
  const r = Router();
  const show = (scope: 'phone' | 'admin-api') => (b: Block) => ({
    ip: b.ip,
    scope,
    failures: b.failures,
    since: new Date(b.since).toISOString(),
    until: new Date(b.until).toISOString(),
  });
  r.get('/blocks', allow('readonly'), (_req, res) => {
    res.json({ blocks: [...ctx.guard.list().map(show('phone')), ...ctx.adminGuard.list().map(show('admin-api'))] });
  });
  r.delete('/blocks/:ip', allow(), (req, res) => {
    const ip = String(req.params.ip);
    if (isIP(ip) === 0) throw invalid('ip: expected an IPv4 or IPv6 address');
    const before = [...ctx.guard.list().map(show('phone')), ...ctx.adminGuard.list().map(show('admin-api'))].filter((b) => b.ip === ip);
    const lifted = [ctx.guard.lift(ip), ctx.adminGuard.lift(ip)].some(Boolean);
    if (!lifted) throw notFound(`block on ${ip}`);
    const actor = actorOf(res.locals);
    ctx.stores.tx(() => ctx.audit.record({ actor, action: 'security.unblock', target: `ip:${ip}`, before }));
    ctx.log.warn({ event: 'security', kind: 'ip-unblocked', ip, by: actor.name }, `deskprov lifted the block on ${ip}`);
    res.status(204).end();
  });
  r.get('/download-auth', allow('readonly'), (_req, res) => {
    res.json(ctx.downloadAuth.readiness());
  });
  return r;
}
