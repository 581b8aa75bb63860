/**
 * createApp(ctx) → a node request listener: the lean phone handler first, then the Express
 * admin app. No listen and no module state, so supertest drives it without a port.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type Express } from 'express';
import type { Context } from './context.js';
import { bearerAuth } from './http/auth.js';
import { errorHandler, notFoundHandler } from './http/errors.js';
import { createPhoneHandler, type PhoneHandler } from './http/phone-handler.js';
import { metricsRoute } from './http/metrics-route.js';
import { phoneRequestLog, requestLog } from './http/request-log.js';
import { devicesRouter } from './http/admin/devices.js';
import { locationsRouter } from './http/admin/locations.js';
import { usersRouter } from './http/admin/users.js';
import { templatesRouter } from './http/admin/templates.js';
import { hotdeskDeviceRouter, hotdeskRouter, sessionsRouter } from './http/admin/hotdesk.js';
import { phoneAppRouter } from './http/phone-app.js';
import { deviceLineRouter } from './http/admin/device-line.js';
import { deviceFilesRouter } from './http/admin/device-files.js';
import { ConsoleAuth, consoleCookieAuth, consoleRouter } from './http/console.js';
import { apiSecurityHeaders } from './http/security-headers.js';
import { auditRouter } from './http/admin/audit.js';
import { downloadAuthRouter } from './http/admin/download-auth.js';
import { securityRouter } from './http/admin/security.js';
import { tokensRouter } from './http/admin/tokens.js';
import { resyncRouter } from './http/admin/resync.js';

export interface App {
  listener: RequestListener;
  express: Express;
  /** The phone file handler in front of Express; its answer() serves the phone lane. */
  phone: PhoneHandler;
}

export interface AppOptions {
  /** Phone workers (server/cluster/): how many are configured and how many accept phones now, for /healthz. */
  phoneWorkers?: () => { configured: number; accepting: number };
}

export function createApp(ctx: Context, o: AppOptions = {}): App {
  const app = express();
  app.disable('x-powered-by');
  // One hop: req.ip is the address deskprov's reverse proxy saw (the last X-Forwarded-For entry),
  // never one the client wrote into the header (clientIp in phone-handler.ts does the same).
  app.set('trust proxy', ctx.config.http.trustProxy ? 1 : false);
  app.use(requestLog(ctx.log));

  app.get('/healthz', (_req, res) => {
    ctx.stores.db.prepare('SELECT 1').get();
    // prerender.pending: devices whose files wait to be pre-rendered (0 once the catch-up is done);
    // phoneWorkers.accepting: workers taking phones now (fewer than configured while they start).
    res.json({
      status: 'ok',
      prerender: { running: ctx.prerender.running, pending: ctx.prerender.pending() },
      ...(o.phoneWorkers ? { phoneWorkers: o.phoneWorkers() } : {}),
    });
  });
  app.get('/metrics', metricsRoute(ctx.metrics, ctx.config.metrics.token));

  const consoleAuth = new ConsoleAuth(ctx.consoleSessions, ctx.auth, ctx.clock, ctx.audit);
  app.use('/admin', consoleRouter(consoleAuth, ctx.adminGuard));

  const api = express.Router();
  api.use(apiSecurityHeaders());
  api.use(consoleCookieAuth(consoleAuth));
  api.use(bearerAuth(ctx.auth, ctx.adminGuard));
  api.use(express.json({ limit: '1mb', strict: true }));
  api.use('/users', usersRouter(ctx.stores, ctx.users));
  api.use('/locations', locationsRouter(ctx.stores, ctx.locations));
  api.use(resyncRouter(ctx)); // /devices/:mac/resync, /resync, /status: before the devices router
  api.use('/devices', hotdeskDeviceRouter(ctx, ctx.hotdesk));
  api.use('/devices', devicesRouter(ctx.stores, ctx.devices, ctx.csv, ctx.recorder));
  api.use('/devices', deviceLineRouter(ctx));
  api.use('/devices', deviceFilesRouter(ctx));
  api.use('/devices', downloadAuthRouter(ctx));
  api.use('/tokens', tokensRouter(ctx));
  api.use('/audit', auditRouter(ctx));
  api.use('/security', securityRouter(ctx));
  api.use('/sessions', sessionsRouter(ctx));
  api.use('/hotdesk', hotdeskRouter(ctx.hotdesk));
  api.use('/templates', templatesRouter(ctx.templates));
  app.use('/api/v1', api);
  // Hot-desk screens phones open from their Login / Logout keys (unauthenticated: the PIN is the auth).
  app.use('/phone', phoneAppRouter(ctx, ctx.hotdesk));

  app.use(notFoundHandler());
  app.use(errorHandler(ctx.log));

  const logPhone = phoneRequestLog(ctx.log);
  const phone = createPhoneHandler(ctx.provisioning, {
    maxUploadBytes: ctx.config.http.maxUploadBytes,
    trustProxy: ctx.config.http.trustProxy,
    onError: (err, call) => ctx.log.error({ err, method: call.method, path: call.url.split('?')[0] }, 'phone request failed'),
    onResponse: (call, r, seconds) => {
      ctx.metrics.observePhone(r.vendor, r.kind, r.status, seconds);
      logPhone(call, r.status, r.vendor, r.kind, seconds);
    },
  });
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    if (!phone(req, res)) app(req, res);
  };
  return { listener, express: app, phone };
}
