/** Headers on every admin API answer (errors included): never sniffed, never cached. */
import type { RequestHandler } from 'express';

export function apiSecurityHeaders(): RequestHandler {
  return (_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-store');
    next();
  };
}
