/**
 * Hot desking from the phone (CONTRACT §6): /phone/:vendor/:mac/login and /logout, opened by
 * the Login / Logout soft keys the device config carries. A phone's browser sends no
 * credentials: logging in takes the PIN, under the same lockout as every other route, and a
 * wrong PIN also counts against the sender's address in the enumeration guard (so one address
 * cannot spread guesses over every extension). Logging out takes the key in the guest's own
 * Logout URL (server/services/logout-keys.ts) or the guest's or owner's PIN. Answers never tell
 * whether an extension exists: a wrong PIN and an unknown extension read the same.
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
import { familyOf, loginScreen, logoutConfirmScreen, logoutPinScreen, messageScreen, type Screen, type ScreenFamily } from './phone-screens.js';

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
    return { ip, device, family: familyOf(device.vendor) as ScreenFamily, loginUrl: `${base}/login`, logoutUrl: `${base}/logout`, actor };
  }

  /** A refused PIN counts against the address as well as the user. */
  function refused(ip: string, err: AppError): void {
    if (err.code === 'login_failed') ctx.guard.fail(ip, 'wrong-pin');
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
      let text: string;
      // Nothing changed (you already sit here): the phone is not re-synced, so it does not restart.
      if (now !== null && now.id === before?.id) text = `You are already logged in at this phone, ${name}.`;
      else if (now?.extension === input.data.extension) text = `Welcome ${name}. This phone is now yours; it restarts to load your line.`;
      else if (before) text = `Welcome back ${name}. Your line returns to this phone; it restarts to load it.`;
      else text = `This is already your phone, ${name}.`;
      send(res, 200, messageScreen(family, 'Logged in', text));
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      refused(at.ip, err);
      send(res, 200, messageScreen(family, 'Login failed', refusalText(err)));
    }
  };

  const logout = async (req: Request, res: Response) => {
    const at = deviceOf(req, res);
    if (!at) return;
    const { family } = at;
    const session = ctx.stores.sessions.activeOn(at.device.mac);
    if (!session) {
      send(res, 200, messageScreen(family, 'Log out', 'Nobody is logged in at this phone.'));
      return;
    }
    const f = fields(req);
    if (ctx.logoutKeys.matches(session, f.k)) {
      // The key came from the guest's own config: this is the phone the guest sits at.
      if (f.confirm !== 'yes') {
        send(res, 200, logoutConfirmScreen(family, at.logoutUrl, String(f.k), session.extension));
        return;
      }
      hotdesk.logout(at.device.mac, 'logout', at.actor);
      send(res, 200, messageScreen(family, 'Logged out', `${session.extension} is logged out. The phone restarts.`));
      return;
    }
    // No key (or a stale one): the guest's or the owner's PIN, and nothing said about who sits here.
    if (f.extension === undefined && f.pin === undefined) {
      send(res, 200, logoutPinScreen(family, at.logoutUrl));
      return;
    }
    const input = credentials.safeParse(f);
    if (!input.success) {
      send(res, 200, messageScreen(family, 'Log out', 'Enter your extension and PIN.'));
      return;
    }
    try {
      await hotdesk.logoutWithPin(at.device.mac, input.data.extension, input.data.pin, at.actor);
      send(res, 200, messageScreen(family, 'Logged out', `${session.extension} is logged out. The phone restarts.`));
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      refused(at.ip, err);
      send(res, 200, messageScreen(family, 'Log out failed', refusalText(err)));
    }
  };

  r.get('/:vendor/:mac/login', login);
  r.post('/:vendor/:mac/login', login);
  r.get('/:vendor/:mac/logout', logout);
  r.post('/:vendor/:mac/logout', logout);
  return r;
}
