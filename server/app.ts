/**
 * createApp(ctx) → a node request listener: the lean phone handler first, then the Express
 * admin app. No listen and no module state, so supertest drives it without a port.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import type { Context } from './context.js';
import { bearerAuth } from './http/auth.js';
import { errorHandler, notFoundHandler } from './http/errors.js';
import { createPhoneHandler } from './http/phone-handler.js';
import { devicesRouter } from './http/admin/devices.js';
import { locationsRouter } from './http/admin/locations.js';
import { usersRouter } from './http/admin/users.js';

export interface App {
  listener: RequestListener;
  express: Express;
}

export function createApp(ctx: Context): App {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.config.http.trustProxy);
  app.use((_req, res, next) => {
    res.locals.reqId = randomUUID();
    res.setHeader('X-Request-Id', res.locals.reqId);
    next();
  });

  app.get('/healthz', (_req, res) => {
    ctx.stores.db.prepare('SELECT 1').get();
    res.json({ status: 'ok' });
  });

  const api = express.Router();
  api.use(bearerAuth(ctx.auth));
  api.use(express.json({ limit: '1mb', strict: true }));
  api.use('/users', usersRouter(ctx.stores, ctx.users));
  api.use('/locations', locationsRouter(ctx.stores, ctx.locations));
  api.use('/devices', devicesRouter(ctx.stores, ctx.devices, ctx.csv, ctx.recorder));
  app.use('/api/v1', api);

  app.use(notFoundHandler());
  app.use(errorHandler(ctx.log));

  const phone = createPhoneHandler(ctx.provisioning, {
    maxUploadBytes: ctx.config.http.maxUploadBytes,
    trustProxy: ctx.config.http.trustProxy,
  });
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    if (!phone(req, res)) app(req, res);
  };
  return { listener, express: app };
}
