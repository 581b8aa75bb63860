import express, { Router } from 'express';
import { z } from 'zod';
import type { Stores } from '../../../db/stores/index.js';
import { parseMac, type Mac } from '../../domain/mac.js';
import { forbidden, invalid } from '../../errors.js';
import { deviceCreateSchema, devicePatchSchema, extensionSchema } from '../../schemas.js';
import type { DeviceCsv } from '../../services/device-csv.js';
import type { DeviceService } from '../../services/devices.js';
import type { FetchRecorder } from '../../services/fetch-recorder.js';
import { notifyView } from '../../services/sync-status.js';
import { actorOf, allow } from '../auth.js';
import { parseWith } from '../validation.js';
import { vendorIds } from '../../../vendors/registry.js';

export function macParam(raw: unknown): Mac {
  const mac = typeof raw === 'string' ? parseMac(raw) : null;
  if (!mac) throw invalid('mac: expected a MAC like 001565aabbcc or 00:15:65:AA:BB:CC');
  return mac;
}

const listQuery = z.strictObject({
  // An unknown vendor is a typo, not an empty list (as an unknown state is).
  vendor: z.string().max(32).refine((v) => vendorIds.includes(v), { message: `expected one of ${vendorIds.join(', ')}` }).optional(),
  model: z.string().max(40).optional(),
  locationId: z.coerce.number().int().positive().optional(),
  owner: z.string().max(32).optional(),
  state: z.enum(['owner', 'guest', 'unassigned']).optional(),
  q: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
  offset: z.coerce.number().int().min(0).default(0),
});

/**
 * What a `pbx` token may ask of the device list: the phones one extension owns, for the PBX
 * script's *91 when the phone's User-Agent carries no MAC (Polycom). It gets MACs and states.
 */
const pbxLookupQuery = z.strictObject({
  owner: extensionSchema,
  state: z.enum(['owner', 'guest', 'unassigned']).optional(),
});

export function devicesRouter(s: Stores, devices: DeviceService, csv: DeviceCsv, recorder: FetchRecorder): Router {
  const r = Router();
  r.get('/', allow('readonly', 'pbx'), (req, res) => {
    if (actorOf(res.locals).role === 'pbx') {
      const keys = Object.keys(req.query as object);
      if (!keys.includes('owner') || keys.some((k) => k !== 'owner' && k !== 'state')) {
        throw forbidden('role pbx may only look up the phones an extension owns: GET /devices?owner=<extension>[&state=]');
      }
      const q = parseWith(pbxLookupQuery, req.query, 'query');
      const owned = s.devices.list({ ownerExtension: q.owner, ...(q.state ? { state: q.state } : {}) }, 1000, 0);
      res.json({ devices: owned.map((d) => ({ mac: d.mac, state: devices.stateOf(d).state })) });
      return;
    }
    const q = parseWith(listQuery, req.query, 'query');
    recorder.flush();
    const filter = {
      ...(q.vendor !== undefined ? { vendor: q.vendor } : {}),
      ...(q.model !== undefined ? { model: q.model } : {}),
      ...(q.locationId !== undefined ? { locationId: q.locationId } : {}),
      ...(q.owner !== undefined ? { ownerExtension: q.owner } : {}),
      ...(q.q !== undefined ? { q: q.q } : {}),
      // In the query, before limit/offset: a page filtered afterwards missed what lay past it.
      ...(q.state !== undefined ? { state: q.state } : {}),
    };
    // `total`: how many match the filters, so a client paging with limit/offset knows where it ends.
    res.json({ devices: s.devices.list(filter, q.limit, q.offset).map((d) => devices.describe(d)), total: s.devices.countMatching(filter) });
  });
  r.post('/', allow(), (req, res) => {
    const d = devices.create(parseWith(deviceCreateSchema, req.body), actorOf(res.locals));
    res.status(201).location(`/api/v1/devices/${d.mac}`).json(devices.describe(d));
  });
  // Before /:mac, which would take `summary` for a MAC (and answer 400).
  r.get('/summary', allow('readonly'), async (_req, res) => {
    recorder.flush();
    res.json(await devices.summary());
  });
  r.get('/export', allow('readonly'), async (_req, res) => {
    res.type('text/csv').attachment('devices.csv');
    for await (const piece of csv.export()) {
      if (res.destroyed) return; // the client went away: no more devices are read
      // A client that reads slowly holds the next piece back, not the server's memory.
      if (!res.write(piece)) await drained(res);
    }
    res.end();
  });
  r.post('/import', allow(), express.text({ type: ['text/csv', 'text/plain'], limit: '5mb' }), (req, res) => {
    if (typeof req.body !== 'string') throw invalid('body: send the CSV with Content-Type: text/csv');
    const dryRun = req.query.dryRun === 'true' || req.query.dryRun === '1';
    const update = req.query.update === 'true' || req.query.update === '1';
    const result = csv.import(req.body, actorOf(res.locals), { dryRun, update });
    res.status(dryRun ? 200 : 201).json(result);
  });
  r.get('/:mac', allow('readonly'), (req, res) => {
    recorder.flush();
    const d = devices.get(macParam(req.params.mac));
    res.json({
      ...devices.describe(d),
      fetches: s.devices.fetchHistory(d.mac, 20).map((f) => ({
        ...f,
        at: new Date(f.at).toISOString(),
        lastAt: f.lastAt === null ? null : new Date(f.lastAt).toISOString(),
      })),
      notifications: s.notifyLog.history(d.mac, 10).map(notifyView),
    });
  });
  r.patch('/:mac', allow(), (req, res) => {
    const d = devices.update(macParam(req.params.mac), parseWith(devicePatchSchema, req.body), actorOf(res.locals));
    res.json(devices.describe(d));
  });
  r.delete('/:mac', allow(), (req, res) => {
    // Fetch records still buffered go first, so the delete takes them with the device's log.
    recorder.flush();
    devices.delete(macParam(req.params.mac), actorOf(res.locals));
    res.status(204).end();
  });
  return r;
}

/** Resolves once `res` can take more output, or is closed. */
function drained(res: express.Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
