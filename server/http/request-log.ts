/**
 * Access logs. Admin and console requests: one info line each with a request id (also sent
 * back as X-Request-Id), method, path without its query string (a query may carry a PIN),
 * status and milliseconds. Phone file requests: debug only, so a boot storm of thousands of
 * phones does not flood the log at the default level.
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../log.js';
import type { PhoneCall } from './phone-handler.js';

export function requestLog(log: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const reqId = randomUUID();
    res.locals.reqId = reqId;
    res.setHeader('X-Request-Id', reqId);
    res.once('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log.info({ reqId, method: req.method, path: pathOnly(req.originalUrl), status: res.statusCode, ms: Math.round(ms * 10) / 10, ip: req.ip }, 'request');
    });
    next();
  };
}

/** For the phone handler's onResponse: a debug line per phone request, built only when debug is on. */
export function phoneRequestLog(log: Logger): (call: PhoneCall, status: number, vendor: string | null, kind: string | null, seconds: number) => void {
  return (call, status, vendor, kind, seconds) => {
    if (!log.isLevelEnabled('debug')) return;
    log.debug({ method: call.method, path: pathOnly(call.url), status, vendor, kind, ms: Math.round(seconds * 1e4) / 10, ip: call.ip }, 'phone request');
  };
}

function pathOnly(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
