/**
 * Admin API tokens under /api/v1/tokens (admin only except the list):
 *   GET  /                  names, roles, dates — never a token or its hash
 *   POST / {name, role}     201 with the token, shown this once
 *   POST /:name/rotate      a new token for the same name and role (the old one stops working)
 *   DELETE /:name           revoke
 */
import { Router } from 'express';
import type { Context } from '../../context.js';
import { tokenCreateSchema, tokenNameSchema } from '../../schemas.js';
import { actorOf, allow } from '../auth.js';
import { parseWith } from '../validation.js';

export function tokensRouter(ctx: Pick<Context, 'tokens'>): Router {
  const r = Router();
  r.get('/', allow('readonly'), (_req, res) => {
    res.json({ tokens: ctx.tokens.list() });
  });
  r.post('/', allow(), (req, res) => {
    const body = parseWith(tokenCreateSchema, req.body);
    const { token, info } = ctx.tokens.create(body.name, body.role, actorOf(res.locals));
    res.status(201).location(`/api/v1/tokens/${info.name}`).json({ ...info, token });
  });
  r.post('/:name/rotate', allow(), (req, res) => {
    const { token, info } = ctx.tokens.rotate(parseWith(tokenNameSchema, req.params.name, 'name'), actorOf(res.locals));
    res.json({ ...info, token });
  });
  r.delete('/:name', allow(), (req, res) => {
    ctx.tokens.revoke(parseWith(tokenNameSchema, req.params.name, 'name'), actorOf(res.locals));
    res.status(204).end();
  });
  return r;
}
