/**
 * /api/v1/templates: list, read, save (text/plain), reset, history, rollback, preview and diff.
 * Template bodies travel as text/plain; everything else as JSON.
 */
import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { parseMac, type Mac } from '../../domain/mac.js';
import type { DeviceState } from '../../domain/types.js';
import { AppError, invalid } from '../../errors.js';
import { MAX_TEMPLATE_LENGTH } from '../../services/template-engine.js';
import { publicVersion, TemplateService, type ChangeMeta } from '../../services/templates.js';
import { actorOf, allow } from '../auth.js';
import { parseWith } from '../validation.js';

const rollbackSchema = z
  .object({
    version: z.number().int().positive(),
    comment: z.string().max(500).optional(),
  })
  .strict();

const STATES: readonly DeviceState[] = ['owner', 'guest', 'unassigned'];

/** Template text as the body: every content type except JSON (which the API parses first). */
const textBody = express.text({ type: () => true, limit: MAX_TEMPLATE_LENGTH + 1024 });

function bodyText(req: Request): string {
  if (typeof req.body === 'string') return req.body;
  if (req.body === undefined) throw invalid('body: send the template text (Content-Type: text/plain)');
  throw new AppError(415, 'unsupported_media_type', 'send the template as text/plain, not JSON');
}

function versionParam(raw: unknown): number {
  if (typeof raw !== 'string' || !/^[1-9]\d{0,8}$/.test(raw)) throw invalid('version: expected a version number');
  return Number(raw);
}

function macQuery(raw: unknown): Mac | null {
  if (raw === undefined) return null;
  const mac = typeof raw === 'string' ? parseMac(raw) : null;
  if (!mac) throw invalid('mac: expected a MAC address such as 001565aabbcc');
  return mac;
}

function stateQuery(raw: unknown): DeviceState {
  if (raw === undefined) return 'owner';
  const state = STATES.find((s) => s === raw);
  if (!state) throw invalid('state: expected owner, guest or unassigned');
  return state;
}

function param(req: Request, key: 'vendor' | 'name'): string {
  const v = req.params[key];
  if (typeof v !== 'string') throw invalid(`${key}: missing`);
  return v;
}

function meta(req: Request, res: Response, comment?: string): ChangeMeta {
  const raw = comment ?? req.query.comment ?? req.get('X-Comment');
  return { actor: actorOf(res.locals), comment: TemplateService.comment(raw) };
}

function sendText(res: Response, text: string, headers: Record<string, string> = {}): void {
  res.status(200).set({ 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers }).send(text);
}

export function templatesRouter(templates: TemplateService): Router {
  const r = Router();
  const one = '/:vendor/:name';

  r.get('/', allow('readonly'), (_req, res) => {
    res.json({ templates: templates.list() });
  });

  r.get(one, allow('readonly'), (req, res) => {
    const vendor = param(req, 'vendor');
    const name = param(req, 'name');
    if (req.query.version !== undefined) {
      const version = versionParam(req.query.version);
      sendText(res, templates.versionText(vendor, name, version), { 'X-Template-Origin': 'override', 'X-Template-Version': String(version) });
      return;
    }
    const t = templates.current(vendor, name);
    sendText(res, t.source, { 'X-Template-Origin': t.origin, 'X-Template-Version': String(t.version) });
  });

  r.put(one, allow(), textBody, (req, res) => {
    res.json(templates.save(param(req, 'vendor'), param(req, 'name'), bodyText(req), meta(req, res)));
  });

  r.delete(one, allow(), (req, res) => {
    res.json(templates.reset(param(req, 'vendor'), param(req, 'name'), meta(req, res)));
  });

  r.get(`${one}/history`, allow('readonly'), (req, res) => {
    res.json({ versions: templates.history(param(req, 'vendor'), param(req, 'name')).map(publicVersion) });
  });

  r.get(`${one}/history/:version`, allow('readonly'), (req, res) => {
    const version = versionParam(req.params.version);
    sendText(res, templates.versionText(param(req, 'vendor'), param(req, 'name'), version), { 'X-Template-Version': String(version) });
  });

  r.post(`${one}/rollback`, allow(), (req, res) => {
    const body = parseWith(rollbackSchema, req.body);
    res.json(templates.rollback(param(req, 'vendor'), param(req, 'name'), body.version, meta(req, res, body.comment)));
  });

  r.post(`${one}/preview`, allow('readonly'), textBody, (req, res) => {
    const t = templates.target(param(req, 'vendor'), param(req, 'name'));
    sendText(res, templates.preview.render(t, bodyText(req), macQuery(req.query.mac), stateQuery(req.query.state)));
  });

  const diff = (req: Request, res: Response, source: string) => {
    const t = templates.target(param(req, 'vendor'), param(req, 'name'));
    const mac = macQuery(req.query.mac);
    if (!mac) {
      res.json(templates.preview.diffAll(t, source));
      return;
    }
    const d = templates.preview.diffDevice(t, source, mac);
    res.status(200).set({ 'Content-Type': 'text/x-diff; charset=utf-8', 'Cache-Control': 'no-store', 'X-Changed': String(d.changed) }).send(d.diff);
  };
  r.post(`${one}/diff`, allow('readonly'), textBody, (req, res) => diff(req, res, bodyText(req)));
  r.get(`${one}/diff`, allow('readonly'), (req, res) => {
    const vendor = param(req, 'vendor');
    const name = param(req, 'name');
    if (req.query.version === undefined) throw invalid('version: give ?version=N, or POST the candidate text');
    diff(req, res, templates.versionText(vendor, name, versionParam(req.query.version)));
  });

  return r;
}
