import { Router } from 'express';
import { userCreateSchema, userPatchSchema } from '../../schemas.js';
import { publicUser, type UserService } from '../../services/users.js';
import type { Stores } from '../../../db/stores/index.js';
import { actorOf, allow } from '../auth.js';
import { parseWith } from '../validation.js';

export function usersRouter(s: Stores, users: UserService): Router {
  const r = Router();
  r.get('/', allow('readonly'), (_req, res) => {
    res.json({ users: s.users.list().map(publicUser) });
  });
  r.post('/', allow(), async (req, res) => {
    const input = parseWith(userCreateSchema, req.body);
    const u = await users.create(input, actorOf(res.locals));
    res.status(201).location(`/api/v1/users/${encodeURIComponent(u.extension)}`).json(publicUser(u));
  });
  r.get('/:extension', allow('readonly'), (req, res) => {
    const u = users.get(req.params.extension as string);
    const sitting = s.sessions.activeFor(u.extension).map((x) => ({ mac: x.mac, startedAt: new Date(x.startedAt).toISOString() }));
    const owns = s.devices.list({ ownerExtension: u.extension }).map((d) => d.mac);
    res.json({ ...publicUser(u), devices: owns, sittingAt: sitting });
  });
  r.patch('/:extension', allow(), async (req, res) => {
    const patch = parseWith(userPatchSchema, req.body);
    res.json(publicUser(await users.update(req.params.extension as string, patch, actorOf(res.locals))));
  });
  r.delete('/:extension', allow(), (req, res) => {
    users.delete(req.params.extension as string, actorOf(res.locals));
    res.status(204).end();
  });
  return r;
}
