/**
 * Per-device download security, under /api/v1/devices/:mac/download-auth:
 *   GET                 mode, effective mode, username, readiness, allowlist (no password)
 *   PUT  {mode?, allowlist?}   mode "default" | "off" | "provision" | "enforce"; CIDR list or null
 *   POST /rotate        new password (the old one works until the phone fetched the new one)
 *   POST /enrol {for}   enrolment window for a replaced or factory-reset phone
 *   GET  /credentials   the username and password, for setting a phone up by hand (admin, audited)
 */
import { Router } from 'express';
import type { Context } from '../../context.js';
import { parseDuration } from '../../domain/duration.js';
import { downloadAuthPutSchema, enrolSchema } from '../../schemas.js';
import { actorOf, allow } from '../auth.js';
import { parseWith } from '../validation.js';
import { macParam } from './devices.js';

export function downloadAuthRouter(ctx: Pick<Context, 'downloadAuth' | 'devices' | 'stores' | 'audit' | 'recorder'>): Router {
  const r = Router();
  const da = ctx.downloadAuth;
  // Readiness and rotation read the version each phone last fetched: write pending fetch records first.
  r.use('/:mac/download-auth', (_req, _res, next) => {
    ctx.recorder.flush();
    next();
  });
  r.get('/:mac/download-auth', allow('readonly'), (req, res) => {
    res.json(da.describe(macParam(req.params.mac)));
  });
  r.put('/:mac/download-auth', allow(), (req, res) => {
    const mac = macParam(req.params.mac);
    const body = parseWith(downloadAuthPutSchema, req.body);
    const actor = actorOf(res.locals);
    let out = da.describe(mac);
    ctx.stores.tx(() => {
      if (body.allowlist !== undefined) out = da.setAllowlist(mac, body.allowlist, actor);
      if (body.mode !== undefined) out = da.setMode(mac, body.mode === 'default' ? null : body.mode, actor);
    });
    res.json(out);
  });
  r.post('/:mac/download-auth/rotate', allow(), (req, res) => {
    res.json(da.rotate(macParam(req.params.mac), actorOf(res.locals)));
  });
  r.post('/:mac/download-auth/enrol', allow(), (req, res) => {
    const mac = macParam(req.params.mac);
    const body = parseWith(enrolSchema, req.body ?? {});
    res.json(da.openEnrolment(mac, parseDuration(body.for) ?? 0, actorOf(res.locals)));
  });
  r.get('/:mac/download-auth/credentials', allow(), (req, res) => {
    const device = ctx.devices.get(macParam(req.params.mac));
    const creds = ctx.stores.tx(() => {
      const c = da.credentialsFor(device);
      if (c) ctx.audit.record({ actor: actorOf(res.locals), action: 'device.download-auth.reveal', target: `device:${device.mac}`, after: { username: c.username } });
      return c;
    });
    res.set('Cache-Control', 'no-store').json(creds ?? { username: null, password: null });
  });
  return r;
}
