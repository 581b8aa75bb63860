/**
 * GET /metrics: the Prometheus exposition. Open by default (bind deskprov or the proxy so only
 * the monitoring network reaches it); with `metrics.token` set it wants that bearer token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Metrics } from '../metrics.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function metricsRoute(metrics: Metrics, token: string | null): RequestHandler {
  const expected = token === null ? null : digest(token);
  return (req, res, next) => {
    if (expected !== null) {
      const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
      if (!m?.[1] || !timingSafeEqual(digest(m[1]), expected)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="deskprov-metrics"');
        res.status(401).json({ error: { code: 'unauthorized', message: 'metrics need the metrics token' } });
        return;
      }
    }
    metrics.scrape().then(({ contentType, body }) => {
      res.setHeader('Content-Type', contentType);
      res.setHeader('Cache-Control', 'no-store');
      res.send(body);
    }, next);
  };
}
