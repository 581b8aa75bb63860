/** Per-device download credentials, auth mode, allowlist and enrolment window. */
import type { Db } from '../index.js';
import { DeviceChangeStore } from './device-changes.js';
import type { Mac } from '../../server/domain/mac.js';

export type DownloadAuthMode = 'off' | 'provision' | 'enforce';

export interface DownloadAuthRecord {
  mac: Mac;
  /** null: the site default (security.downloadAuth.defaultMode). */
  mode: DownloadAuthMode | null;
  username: string;
  password: string;
  /**
   * Earlier passwords the phone may still hold (accepted until it has fetched the current one),
   * newest first.
   */
  prevPasswords: readonly string[];
  credsVersion: number;
  /** JSON array of CIDRs, null when the device has no list of its own. */
  allowlist: string | null;
  openUntil: number | null;
  updatedAt: number;
}

interface Row {
  mac: string;
  mode: DownloadAuthMode | null;
  username: string;
  password: string;
  prev_passwords: string;
  creds_version: number;
  allowlist: string | null;
  open_until: number | null;
  updated_at: number;
}

const toRecord = (r: Row): DownloadAuthRecord => ({
  mac: r.mac as Mac,
  mode: r.mode,
  username: r.username,
  password: r.password,
  prevPasswords: passwordList(r.prev_passwords),
  credsVersion: r.creds_version,
  allowlist: r.allowlist,
  openUntil: r.open_until,
  updatedAt: r.updated_at,
});

/** The stored JSON list; anything else (a hand-edited row) is read as no earlier passwords. */
function passwordList(json: string): string[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((p): p is string => typeof p === 'string') : [];
  } catch {
    return [];
  }
}

export interface ReadinessRow {
  mac: Mac;
  mode: DownloadAuthMode | null;
  credsVersion: number | null;
  fetchedVersion: number | null;
}

export class DownloadAuthStore {
  private readonly byMac;
  private readonly ins;
  private readonly upd;
  private readonly readiness;
  private readonly secretGet;
  private readonly secretPut;

  private readonly anyRow;

  private readonly cache = new Map<string, DownloadAuthRecord | null>();
  /**
   * True once the table was read empty, until a row may have been written (any `forget`): a
   * site that uses no download auth then reads no row per device (a first fetch read one).
   * Undefined: not known.
   */
  private empty: boolean | undefined;
  /** How many times a cached row was dropped because it changed (see DeviceStore.epoch). */
  epoch = 0;

  constructor(
    private readonly db: Db,
    /** Where every write is noted for phone workers' caches (createStores shares one). */
    private readonly notes = new DeviceChangeStore(db),
  ) {
    this.byMac = db.prepare<[string], Row>('SELECT * FROM device_download_auth WHERE mac = ?');
    this.anyRow = db.prepare<[], { one: number }>('SELECT 1 AS one FROM device_download_auth LIMIT 1');
    this.ins = db.prepare(`INSERT OR IGNORE INTO device_download_auth (mac, mode, username, password, creds_version, updated_at)
      VALUES (@mac, @mode, @username, @password, @credsVersion, @now)`);
    this.upd = db.prepare(`UPDATE device_download_auth SET mode = @mode, password = @password, prev_passwords = @prevPasswords,
      creds_version = @credsVersion, allowlist = @allowlist, open_until = @openUntil, updated_at = @now WHERE mac = @mac`);
    this.readiness = db.prepare<[], { mac: string; mode: DownloadAuthMode | null; creds_version: number | null; fetched_version: number | null }>(
      `SELECT d.mac, a.mode, a.creds_version, d.fetched_version FROM devices d
       LEFT JOIN device_download_auth a ON a.mac = d.mac ORDER BY d.mac`,
    );
    this.secretGet = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?');
    this.secretPut = db.prepare('INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)');
  }

  /** Cached like DeviceStore.head (read on every phone request); writes drop the entry. */
  get(mac: string): DownloadAuthRecord | null {
    const cached = this.cache.get(mac);
    if (cached !== undefined) return cached;
    if (this.isEmpty()) return null;
    const r = this.byMac.get(mac);
    const rec = r ? toRecord(r) : null;
    if (this.db.inTransaction) return rec;
    if (this.cache.size >= 250_000) this.cache.clear();
    this.cache.set(mac, rec);
    return rec;
  }

  private isEmpty(): boolean {
    if (this.empty !== undefined) return this.empty;
    const empty = this.anyRow.get() === undefined;
    // Never keep what a transaction may still roll back.
    if (!this.db.inTransaction) this.empty = empty;
    return empty;
  }

  /**
   * Drop cached rows: one device, or all (`null`). Called before every write here, when the
   * device row changes, and in a phone worker for every change the primary notes.
   */
  forget(mac: string | null): void {
    this.epoch++;
    this.empty = undefined;
    if (mac === null) this.cache.clear();
    else this.cache.delete(mac);
  }

  /** Creates the row unless one exists (first writer wins); returns the stored row. */
  ensure(mac: Mac, init: { mode: DownloadAuthMode | null; username: string; password: string; credsVersion: number }, now: number): DownloadAuthRecord {
    this.forget(mac);
    if (this.ins.run({ mac, ...init, now }).changes > 0) this.notes.note(mac);
    return this.get(mac)!;
  }

  save(r: Omit<DownloadAuthRecord, 'updatedAt' | 'username'>, now: number): void {
    this.forget(r.mac);
    this.upd.run({ ...r, prevPasswords: JSON.stringify(r.prevPasswords), now });
    this.notes.note(r.mac);
  }

  /** Every device with its mode and whether it has fetched its credentials (for the rollout report). */
  readinessAll(): ReadinessRow[] {
    return this.readiness.all().map((r) => ({ mac: r.mac as Mac, mode: r.mode, credsVersion: r.creds_version, fetchedVersion: r.fetched_version }));
  }

  /** A server secret kept in `settings`, created on first use with `make`. */
  secret(key: string, make: () => string): string {
    const have = this.secretGet.get(key)?.value;
    if (have) return have;
    this.secretPut.run(key, make());
    return this.secretGet.get(key)!.value;
  }
}
