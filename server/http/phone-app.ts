/**
 * Hot desking from the phone (CONTRACT §6): /phone/:vendor/:mac/login and /logout, opened by
 * the Login / Logout soft keys the device config carries. Unauthenticated: the PIN is the
 * authentication, under the same lockout as every other route. Answers never tell whether an
 * extension exists: a wrong PIN and an unknown extension read the same.
 */
import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Context } from '../context.js';
import { parseMac } from '../domain/mac.js';
import { AppError } from '../errors.js';
import { extensionSchema } from '../schemas.js';
import type { Actor } from '../services/audit.js';
import type { HotdeskService } from '../services/hotdesk.js';
import { clientIp } from './phone-handler.js';
import { familyOf, loginScreen, logoutConfirmScreen, messageScreen, type Screen, type ScreenFamily } from './phone-screens.js';

const credentials = z.object({ extension: extensionSchema, pin: z.string().min(1).max(64) });

function send(res: Response, status: number, screen: Screen): void {
  res.status(status).set({ 'Content-Type': screen.contentType, 'Cache-Control': 'no-store' }).send(screen.body);
}

/** Submitted fields: the query (Yealink appends them to the URL) merged with a form body (Polycom POST). */
function fields(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  const fromBody = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
  return { ...(req.query as Record<string, unknown>), ...fromBody };
}

/** What the phone shows for a refused login or logout; never more than "login failed" about the extension. */
export function refusalText(err: AppError): string {
  const details = (err.details ?? {}) as { attemptsLeft?: number; retryAfterSeconds?: number; reason?: string };
  switch (err.code) {
    case 'login_failed': {
      const left = details.attemptsLeft ?? 0;
      return `Login failed: wrong extension or PIN. ${left} attempt${left === 1 ? '' : 's'} left.`;
    }
    case 'locked':
      return `Too many wrong PINs. Try again in ${Math.ceil((details.retryAfterSeconds ?? 60) / 60)} min.`;
    case 'forbidden':
      if (details.reason === 'hotdesk-disabled') return 'Hot desking is off for this phone.';
      if (details.reason === 'user-not-allowed') return 'Your extension may not use hot desking.';
      return 'Not allowed on this phone.';
    case 'conflict':
      return details.reason === 'device-limit'
        ? 'You are logged in at too many phones. Log out of one first.'
        : 'You are already logged in at another phone. Log out there first.';
    default:
      return 'Login failed.';
  }
}

export function phoneAppRouter(ctx: Context, hotdesk: HotdeskService): Router {
  const r = Router();
  r.use(express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 10 }));

  /** The device the URL names, or a 404 (unknown MAC, or a vendor that is not the device's). */
  function deviceOf(req: Request, res: Response) {
    const ip = clientIp(req, ctx.config.http.trustProxy);
    if (ctx.guard.blockedFor(ip) > 0) {
      res.status(429).type('text/plain').send('Too Many Requests\n');
      return null;
    }
    const mac = parseMac(String(req.params.mac ?? ''));
    const device = mac ? ctx.stores.devices.get(mac) : null;
    if (!device || device.vendor !== req.params.vendor) {
      ctx.guard.fail(ip, 'unknown-mac');
      res.status(404).type('text/plain').set('Cache-Control', 'no-store').send('Not Found\n');
      return null;
    }
    const base = `${ctx.config.provisioning.baseUrl}phone/${device.vendor}/${device.mac}`;
    const actor: Actor = { name: `phone:${device.mac}`, role: 'pbx' };
    return { device, family: familyOf(device.vendor) as ScreenFamily, loginUrl: `${base}/login`, logoutUrl: `${base}/logout`, actor };
  }

  const login = async (req: Request, res: Response) => {
    const at = deviceOf(req, res);
    if (!at) return;
    const { family } = at;
    const f = fields(req);
    if (f.extension === undefined && f.pin === undefined) {
      send(res, 200, loginScreen(family, at.loginUrl, at.device.label));
      return;
    }
    const input = credentials.safeParse(f);
    if (!input.success) {
      send(res, 200, messageScreen(family, 'Login', 'Enter your extension and PIN.'));
      return;
    }
    try {
      const before = ctx.stores.sessions.activeOn(at.device.mac);
      const device = await hotdesk.login(at.device.mac, input.data.extension, input.data.pin, at.actor);
      const now = ctx.stores.sessions.activeOn(device.mac);
      const user = ctx.stores.users.get(input.data.extension);
      const name = user?.displayName || input.data.extension;
      const text = now?.extension === input.data.extension
        ? `Welcome ${name}. This phone is now yours; it restarts to load your line.`
        : before
          ? `Welcome back ${name}. Your line returns to this phone; it restarts to load it.`
          : `This is already your phone, ${name}.`;
      send(res, 200, messageScreen(family, 'Logged in', text));
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      send(res, 200, messageScreen(family, 'Login failed', refusalText(err)));
    }
  };

  const logout = (req: Request, res: Response) => {
    const at = deviceOf(req, res);
    if (!at) return;
    const { family } = at;
    const session = ctx.stores.sessions.activeOn(at.device.mac);
    if (!session) {
      send(res, 200, messageScreen(family, 'Log out', 'Nobody is logged in at this phone.'));
      return;
    }
    if (fields(req).confirm !== 'yes') {
      send(res, 200, logoutConfirmScreen(family, at.logoutUrl, session.extension));
      return;
    }
    // Physical presence at the phone is what a logout key asks for, as on the phones' own hot-desk keys.
    hotdesk.logout(at.device.mac, 'logout', at.actor);
    send(res, 200, messageScreen(family, 'Logged out', `${session.extension} is logged out. The phone restarts.`));
  };

  r.get('/:vendor/:mac/login', login);
  r.post('/:vendor/:mac/login', login);
  r.get('/:vendor/:mac/logout', logout);
  r.post('/:vendor/:mac/logout', logout);
  return r;
}
