/** One place that turns errors into `{"error":{code,message,details}}`; no stack or SQL ever leaves. */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError } from '../errors.js';

export interface ErrorLog {
  error(obj: Record<string, unknown>, msg: string): void;
}

export function notFoundHandler(): RequestHandler {
  return (req, res) => {
    res.status(404).json({ error: { code: 'not_found', message: `no route for ${req.method} ${req.path}` } });
  };
}

export function errorHandler(log: ErrorLog): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (err instanceof AppError) {
      if (err.headers) res.set(err.headers);
      res.status(err.status).json({ error: { code: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) } });
      return;
    }
    // body-parser and friends: malformed JSON, too large, wrong charset.
    const e = err as { status?: number; type?: string; expose?: boolean; message?: string };
    if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      const code = e.type === 'entity.too.large' ? 'too_large' : 'invalid';
      const message = e.type === 'entity.parse.failed' ? 'body is not valid JSON' : e.expose && e.message ? e.message : 'bad request';
      res.status(e.status).json({ error: { code, message } });
      return;
    }
    log.error({ err, method: req.method, path: req.path, reqId: res.locals.reqId }, 'unhandled error');
    res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
  };
}
