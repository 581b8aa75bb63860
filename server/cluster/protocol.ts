/**
 * Messages between the primary process and its phone workers (child_process IPC, JSON).
 * A worker is this same code base forked by the primary: its messages are trusted for shape,
 * but the primary still ignores anything that does not look like one of these.
 */
import type { FetchRecord } from '../../db/stores/devices.js';
import { bodyText, type RenderWrite } from '../../db/stores/rendered-files.js';
import type { Config } from '../config.js';
import { isRenderTallies, type RenderTallies } from '../metrics.js';
import { isTallyData, type PhoneTallyData } from '../phone-tally.js';
import type { FailureKind } from '../services/enumeration-guard.js';

export type ToWorker =
  | { type: 'init'; id: number; config: Config; internalSocket: string }
  /** Sent with a listening handle, once per accept handle the worker should add. */
  | { type: 'listen' }
  /** Sent after the last 'listen': the worker answers 'accepting' (IPC keeps the order). */
  | { type: 'handles-sent' }
  /** [ip, until (epoch ms)] of every current enumeration block. */
  | { type: 'blocks'; blocks: Array<[string, number]> }
  | { type: 'stop' }
  /** Report what the worker's repeat folds have counted now (an admin read fetches: FetchRecorder.onFlush). */
  | { type: 'report' };

export type FromWorker =
  /** Warmed up: the primary may send the listening handles. */
  | { type: 'ready' }
  /** Every handle sent is listening: connections may land in this worker from now on. */
  | { type: 'accepting' }
  | { type: 'fetches'; rows: FetchRow[] }
  /** Device files the worker rendered, for the primary to store (StoredRenders). */
  | { type: 'renders'; rows: RenderRow[] }
  /** The phone requests the worker answered since its last tally. */
  | { type: 'answered'; tally: PhoneTallyData }
  /** How long the worker's renders took since it last said, by vendor. */
  | { type: 'rendered'; renders: RenderTallies }
  | { type: 'fail'; ip: string; kind: FailureKind };

/**
 * A fetch record as it travels to the primary: FetchRecord's fields in order, without their names.
 * Every phone request a worker answers sends one. As rows, 250 records are 40% fewer bytes of JSON
 * than as objects, and half the time to encode and to decode (1.4 -> 0.8 and 1.7 -> 0.8 µs a
 * record, measured on an idle machine).
 */
export type FetchRow = [
  mac: FetchRecord['mac'],
  at: number,
  ip: string,
  userAgent: string | null,
  model: string | null,
  firmware: string | null,
  file: string,
  status: number,
  configVersion: number | null,
  lineUser: string | null,
  extension: string | null,
  // A repeat record's two more (server/services/fetch-folds.ts).
  repeats?: number,
  lastAt?: number,
];

export function toFetchRow(f: FetchRecord): FetchRow {
  const row: FetchRow = [f.mac, f.at, f.ip, f.userAgent, f.model, f.firmware, f.file, f.status, f.configVersion, f.lineUser, f.extension];
  if (f.repeats !== undefined) row.push(f.repeats, f.lastAt ?? f.at);
  return row;
}

export function fromFetchRow(r: FetchRow): FetchRecord {
  const [mac, at, ip, userAgent, model, firmware, file, status, configVersion, lineUser, extension, repeats, lastAt] = r;
  const f: FetchRecord = { mac, at, ip, userAgent, model, firmware, file, status, configVersion, lineUser, extension };
  if (repeats !== undefined) (f.repeats = repeats), (f.lastAt = lastAt ?? at);
  return f;
}

/**
 * A render as it travels to the primary: RenderWrite's fields in order, the body as its UTF-8
 * text (every render is; Buffers in JSON are arrays of numbers) or else base64.
 */
export type RenderRow = [
  mac: string,
  template: string,
  stamp: string,
  configVersion: number,
  body: string,
  encoding: 'utf8' | 'base64',
  etag: string,
  contentType: string,
  lineUser: string | null,
  extension: string | null,
  deviceCreatedAt: number,
  renderedAt: number,
];

export function toRenderRow(w: RenderWrite): RenderRow {
  const text = bodyText(w.body);
  const [body, encoding] = text !== null ? [text, 'utf8' as const] : [w.body.toString('base64'), 'base64' as const];
  return [w.mac, w.template, w.stamp, w.configVersion, body, encoding, w.etag, w.contentType, w.lineUser, w.extension, w.deviceCreatedAt, w.renderedAt];
}

const str = (v: unknown): v is string => typeof v === 'string';
const strOrNull = (v: unknown) => v === null || typeof v === 'string';
const int = (v: unknown): v is number => Number.isSafeInteger(v);

/** The RenderWrite of a row, or null when it is not one (the primary stores nothing of it). */
export function fromRenderRow(r: unknown): RenderWrite | null {
  if (!Array.isArray(r) || r.length !== 12) return null;
  const [mac, template, stamp, configVersion, body, encoding, etag, contentType, lineUser, extension, deviceCreatedAt, renderedAt] = r as unknown[];
  if (!str(mac) || !str(template) || !str(stamp) || !int(configVersion) || !str(body) || (encoding !== 'utf8' && encoding !== 'base64')) return null;
  if (!str(etag) || !str(contentType) || !strOrNull(lineUser) || !strOrNull(extension) || !int(deviceCreatedAt) || !int(renderedAt)) return null;
  return {
    mac, template, stamp, configVersion,
    body: Buffer.from(body, encoding),
    etag, contentType,
    lineUser: lineUser as string | null,
    extension: extension as string | null,
    deviceCreatedAt, renderedAt,
  };
}

export function isFromWorker(m: unknown): m is FromWorker {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { type?: unknown }).type;
  if (t === 'ready' || t === 'accepting') return true;
  if (t === 'fetches' || t === 'renders') return Array.isArray((m as { rows?: unknown }).rows);
  if (t === 'answered') return isTallyData((m as { tally?: unknown }).tally);
  if (t === 'rendered') return isRenderTallies((m as { renders?: unknown }).renders);
  if (t === 'fail') return typeof (m as { ip?: unknown }).ip === 'string' && typeof (m as { kind?: unknown }).kind === 'string';
  return false;
}
