/**
 * Files a phone uploaded (Polycom logs, overrides, directory, call lists), for admins:
 *   GET /api/v1/devices/:mac/files         slot, kind, size, updatedAt of each stored file
 *   GET /api/v1/devices/:mac/files/:slot   the bytes, as a download (audited)
 * Phones get back only their own overrides and directory; logs are read here and nowhere else.
 */
import { Router } from 'express';
import { vendors } from '../../../vendors/registry.js';
import type { Context } from '../../context.js';
import { invalid, notFound } from '../../errors.js';
import { actorOf, allow } from '../auth.js';
import { macParam } from './devices.js';

/** Every slot name a vendor declares, with its kind. */
const SLOTS: ReadonlyMap<string, 'upload' | 'log'> = new Map(vendors.flatMap((v) => Object.entries(v.uploadSlots ?? {})));

function slotParam(raw: unknown): { slot: string; kind: 'upload' | 'log' } {
  const kind = typeof raw === 'string' ? SLOTS.get(raw) : undefined;
  if (!kind) throw invalid(`slot: expected one of ${[...SLOTS.keys()].join(', ')}`, { fields: [{ field: 'slot', message: 'unknown file slot' }] });
  return { slot: raw as string, kind };
}

const iso = (ms: number) => new Date(ms).toISOString();

export function deviceFilesRouter(ctx: Pick<Context, 'devices' | 'stores' | 'audit'>): Router {
  const r = Router();
  r.get('/:mac/files', allow('readonly'), (req, res) => {
    const device = ctx.devices.get(macParam(req.params.mac));
    res.json({
      files: ctx.stores.files.list(device.mac).map((f) => ({
        slot: f.slot,
        kind: SLOTS.get(f.slot) ?? 'upload',
        size: f.size,
        updatedAt: iso(f.updatedAt),
      })),
    });
  });
  r.get('/:mac/files/:slot', allow('readonly'), (req, res) => {
    const mac = macParam(req.params.mac);
    const { slot, kind } = slotParam(req.params.slot);
    const device = ctx.devices.get(mac);
    const file = ctx.stores.files.read(device.mac, slot);
    if (!file) throw notFound(`file ${slot} of device ${device.mac}`);
    // Directories and call lists are personal data and overrides may carry settings typed on
    // the phone: who downloaded what is on the record.
    ctx.stores.tx(() =>
      ctx.audit.record({ actor: actorOf(res.locals), action: 'device.file.read', target: `device:${device.mac}`, after: { slot, size: file.content.length } }),
    );
    res.set({
      'Content-Type': kind === 'log' ? 'text/plain; charset=utf-8' : 'application/octet-stream',
      'Content-Disposition': `attachment; filename="${device.mac}-${slot}"`,
      'X-Content-Type-Options': 'nosniff',
      // The bytes are whatever the phone (or anyone knowing its MAC) sent: never a page on this origin.
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'Last-Modified': new Date(file.updatedAt).toUTCString(),
    });
    res.send(file.content);
  });
  return r;
}
