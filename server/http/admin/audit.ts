/**
 * GET /api/v1/audit — the audit log, newest first. Filters: actor, action (exact, or a prefix
 * ending in "." like "user."), target (e.g. "device:001565aabbcc"), since/until (ISO-8601).
 * Paging: `limit` (default 100) and `before` = the `nextBefore` of the previous page.
 */
import { Router } from 'express';
import type { Context } from '../../context.js';
import { auditQuerySchema } from '../../schemas.js';
import { allow } from '../auth.js';
import { parseWith } from '../validation.js';

export function auditRouter(ctx: Pick<Context, 'auditLog'>): Router {
  const r = Router();
  r.get('/', allow('readonly'), (req, res) => {
    const q = parseWith(auditQuerySchema, req.query, 'query');
    const entries = ctx.auditLog.list({
      ...(q.actor !== undefined ? { actor: q.actor } : {}),
      ...(q.action !== undefined ? { action: q.action } : {}),
      ...(q.target !== undefined ? { target: q.target } : {}),
      ...(q.since !== undefined ? { since: Date.parse(q.since) } : {}),
      ...(q.until !== undefined ? { until: Date.parse(q.until) } : {}),
      ...(q.before !== undefined ? { beforeId: q.before } : {}),
      limit: q.limit,
    });
    const last = entries[entries.length - 1];
    res.json({ entries, nextBefore: entries.length === q.limit && last ? last.id : null });
  });
  return r;
}
