import { isUtf8 } from 'node:buffer';
import type { Db } from '../index.js';

/** One stored render of a device file (see migration 005 and server/services/stored-renders.ts). */
export interface StoredRender {
  mac: string;
  template: string;
  stamp: string;
  configVersion: number;
  body: Buffer;
  etag: string;
  contentType: string;
  lineUser: string | null;
  extension: string | null;
}

/** A render to write, with the device row it was made from (written only if that row is still current). */
export interface RenderWrite extends StoredRender {
  deviceCreatedAt: number;
  renderedAt: number;
}

/** A device and the stamps of its stored renders, for the pre-renderer's catch-up scan. */
export interface ScanRow {
  mac: string;
  vendor: string;
  model: string | null;
  configVersion: number;
  stored: Map<string, { stamp: string; configVersion: number }>;
}

/** A stored render as `get` reads it: a plain array, in this column order (see DeviceStore.row). */
type Row = [stamp: string, configVersion: number, body: Buffer, etag: string, contentType: string, lineUser: string | null, extension: string | null];

/**
 * Written only while the device row is the one rendered: a render that lost a race with a change
 * (or with a delete and re-add of the same MAC) is dropped, never stored. Positional parameters
 * (putParams): binding ten by name cost more than the insert's own work. Also prepared by the
 * database thread (server/services/database-thread.ts), which writes these off the event loop and
 * gets the body as its UTF-8 text (the CAST stores the same bytes as the Buffer would).
 */
export const PUT_RENDER_SQL = `INSERT INTO rendered_files (mac, template, stamp, config_version, body, etag, content_type,
      line_user, extension, rendered_at)
      SELECT ?, ?, ?, ?, CAST(? AS BLOB), ?, ?, ?, ?, ?
      FROM devices WHERE mac = ? AND config_version = ? AND created_at = ?
      ON CONFLICT (mac, template) DO UPDATE SET stamp = excluded.stamp, config_version = excluded.config_version,
        body = excluded.body, etag = excluded.etag, content_type = excluded.content_type, line_user = excluded.line_user,
        extension = excluded.extension, rendered_at = excluded.rendered_at`;

/**
 * A body as its UTF-8 text, for passing it to another thread or process (null: not valid UTF-8).
 * A render always is, and its text turns back into the same bytes.
 */
export function bodyText(body: Buffer): string | null {
  return isUtf8(body) ? body.toString('utf8') : null;
}

/** PUT_RENDER_SQL's parameters for one render. */
export function putParams(r: RenderWrite): PutParams {
  return [r.mac, r.template, r.stamp, r.configVersion, r.body, r.etag, r.contentType, r.lineUser, r.extension, r.renderedAt, r.mac, r.configVersion, r.deviceCreatedAt];
}

export type PutParams = [
  mac: string, template: string, stamp: string, configVersion: number, body: Buffer | string, etag: string, contentType: string,
  lineUser: string | null, extension: string | null, renderedAt: number,
  // the device row it was rendered from
  deviceMac: string, deviceConfigVersion: number, deviceCreatedAt: number,
];

export class RenderedFileStore {
  private readonly get_;
  private readonly put_;
  private readonly devicesAfter;
  private readonly stampsBetween;
  private readonly count_;

  constructor(private readonly db: Db) {
    this.get_ = db.prepare<[string, string], Row>(`SELECT stamp, config_version, body, etag, content_type, line_user, extension
      FROM rendered_files WHERE mac = ? AND template = ?`).raw(true);
    this.put_ = db.prepare<PutParams>(PUT_RENDER_SQL);
    this.devicesAfter = db.prepare<[string, number], { mac: string; vendor: string; model: string | null; configVersion: number }>(
      'SELECT mac, vendor, model, config_version AS configVersion FROM devices WHERE mac > ? ORDER BY mac LIMIT ?',
    );
    this.stampsBetween = db.prepare<[string, string], { mac: string; template: string; stamp: string; configVersion: number }>(
      'SELECT mac, template, stamp, config_version AS configVersion FROM rendered_files WHERE mac >= ? AND mac <= ?',
    );
    this.count_ = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM rendered_files');
  }

  get(mac: string, template: string): StoredRender | null {
    const r = this.get_.get(mac, template);
    if (!r) return null;
    return { mac, template, stamp: r[0], configVersion: r[1], body: r[2], etag: r[3], contentType: r[4], lineUser: r[5], extension: r[6] };
  }

  /** Write a batch in one transaction; returns how many rows were current enough to store. */
  putMany(rows: readonly RenderWrite[]): number {
    let stored = 0;
    this.db.transaction(() => {
      for (const r of rows) stored += this.put_.run(...putParams(r)).changes;
    }).immediate();
    return stored;
  }

  /** Up to `limit` devices after `afterMac` (keyset order), each with its stored stamps. */
  scan(afterMac: string, limit: number): ScanRow[] {
    const devices = this.devicesAfter.all(afterMac, limit);
    if (devices.length === 0) return [];
    const byMac = new Map<string, ScanRow>();
    for (const d of devices) byMac.set(d.mac, { ...d, stored: new Map() });
    for (const s of this.stampsBetween.all(devices[0]!.mac, devices[devices.length - 1]!.mac)) {
      byMac.get(s.mac)?.stored.set(s.template, { stamp: s.stamp, configVersion: s.configVersion });
    }
    return [...byMac.values()];
  }

  count(): number {
    return this.count_.get()?.n ?? 0;
  }
}
