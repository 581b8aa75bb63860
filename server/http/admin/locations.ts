import { Router } from 'express';
import { invalid } from '../../errors.js';
import { locationCreateSchema, locationPatchSchema } from '../../schemas.js';
import { publicLocation, type LocationService } from '../../services/locations.js';
import type { Stores } from '../../../db/stores/index.js';
import { actorOf, allow } from '../auth.js';
import { parseWith } from '../validation.js';

function idParam(raw: unknown): number {
  if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw)) throw invalid('id: expected a location number');
  return Number(raw);
}

export function locationsRouter(s: Stores, locations: LocationService): Router {
  const r = Router();
  r.get('/', allow('readonly'), (_req, res) => {
    res.json({ locations: s.locations.list().map(publicLocation) });
  });
  r.post('/', allow(), (req, res) => {
    const l = locations.create(parseWith(locationCreateSchema, req.body), actorOf(res.locals));
    res.status(201).location(`/api/v1/locations/${l.id}`).json(publicLocation(l));
  });
  r.get('/:id', allow('readonly'), (req, res) => {
    const l = locations.get(idParam(req.params.id));
    res.json({ ...publicLocation(l), devices: s.devices.macsAtLocation(l.id) });
  });
  r.patch('/:id', allow(), (req, res) => {
    res.json(publicLocation(locations.update(idParam(req.params.id), parseWith(locationPatchSchema, req.body), actorOf(res.locals))));
  });
  r.delete('/:id', allow(), (req, res) => {
    locations.delete(idParam(req.params.id), actorOf(res.locals));
    res.status(204).end();
  });
  return r;
}
