import type { Db } from '../index.js';
import { ALL_DEVICES, DeviceChangeStore } from './device-changes.js';
import type { Mac } from '../../server/domain/mac.js';

export interface DeviceRecord {
  mac: Mac;
  vendor: string;
  model: string | null;
  label: string | null;
  ownerExtension: string | null;
  hotdeskEnabled: boolean;
  locationId: number | null;
  sipContact: string | null;
  sessionTimeout: string | null;
  configVersion: number;
  createdAt: number;
  updatedAt: number;
  lastFetch: {
    at: number;
    ip: string;
    userAgent: string | null;
    file: string;
    model: string | null;
    firmware: string | null;
    /** Identical fetches after it that its row counts (fetch-folds.ts); `at` is the newest's. */
    repeats: number;
  } | null;
  fetchedVersion: number | null;
  fetchedLineUser: string | null;
  fetchedExtension: string | null;
}

interface Row {
  mac: string;
  vendor: string;
  model: string | null;
  label: string | null;
  owner_extension: string | null;
  hotdesk_enabled: number;
  location_id: number | null;
  sip_contact: string | null;
  session_timeout: string | null;
  config_version: number;
  created_at: number;
  updated_at: number;
  last_fetch_at: number | null;
  last_fetch_ip: string | null;
  last_fetch_ua: string | null;
  last_fetch_file: string | null;
  last_fetch_model: string | null;
  last_fetch_firmware: string | null;
  last_fetch_repeats: number | null;
  fetched_version: number | null;
  fetched_line_user: string | null;
  fetched_extension: string | null;
}

/** A device's own fields, the ones an admin writes. */
const toWrite = (r: Row): DeviceWrite => ({
  mac: r.mac as Mac,
  vendor: r.vendor,
  model: r.model,
  label: r.label,
  ownerExtension: r.owner_extension,
  hotdeskEnabled: r.hotdesk_enabled === 1,
  locationId: r.location_id,
  sipContact: r.sip_contact,
  sessionTimeout: r.session_timeout,
});

const toDevice = (r: Row): DeviceRecord => ({
  ...toWrite(r),
  configVersion: r.config_version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  lastFetch:
    r.last_fetch_at === null
      ? null
      : {
          at: r.last_fetch_at,
          ip: r.last_fetch_ip ?? '',
          userAgent: r.last_fetch_ua,
          file: r.last_fetch_file ?? '',
          model: r.last_fetch_model,
          firmware: r.last_fetch_firmware,
          repeats: r.last_fetch_repeats ?? 0,
        },
  fetchedVersion: r.fetched_version,
  fetchedLineUser: r.fetched_line_user,
  fetchedExtension: r.fetched_extension,
});

/** A device's row without its last fetch: what a render reads (ViewPartStore.withDevice). */
export type DeviceRow = Omit<DeviceRecord, 'lastFetch'>;

/** A DeviceRow's columns as a raw row (an array, in DEVICE_ROW_COLUMNS order). */
export type DeviceRawRow = [
  mac: string, vendor: string, model: string | null, label: string | null, owner: string | null, hotdesk: number,
  locationId: number | null, sipContact: string | null, sessionTimeout: string | null, configVersion: number,
  createdAt: number, updatedAt: number, fetchedVersion: number | null, fetchedLineUser: string | null, fetchedExtension: string | null,
];
export const DEVICE_ROW_COLUMNS = ['mac', 'vendor', 'model', 'label', 'owner_extension', 'hotdesk_enabled', 'location_id', 'sip_contact',
  'session_timeout', 'config_version', 'created_at', 'updated_at', 'fetched_version', 'fetched_line_user', 'fetched_extension'] as const;

export const deviceFromRaw = (r: DeviceRawRow): DeviceRow => ({
  mac: r[0] as Mac,
  vendor: r[1],
  model: r[2],
  label: r[3],
  ownerExtension: r[4],
  hotdeskEnabled: r[5] === 1,
  locationId: r[6],
  sipContact: r[7],
  sessionTimeout: r[8],
  configVersion: r[9],
  createdAt: r[10],
  updatedAt: r[11],
  fetchedVersion: r[12],
  fetchedLineUser: r[13],
  fetchedExtension: r[14],
});

/**
 * The columns the phone hot path reads on every request: enough to pick the vendor, check a
 * cached render is current and run download auth. The full record is read only to render.
 */
export type DeviceHead = Pick<DeviceRecord, 'mac' | 'vendor' | 'model' | 'configVersion' | 'createdAt' | 'fetchedVersion'>;
type HeadRow = [mac: string, vendor: string, model: string | null, configVersion: number, createdAt: number, fetchedVersion: number | null];

export type DeviceWrite = Pick<
  DeviceRecord,
  'mac' | 'vendor' | 'model' | 'label' | 'ownerExtension' | 'hotdeskEnabled' | 'locationId' | 'sipContact' | 'sessionTimeout'
>;

/** One page of devices in MAC order, after a MAC (see DeviceStore.each). */
const PAGE = 'SELECT * FROM devices WHERE mac > @after ORDER BY mac LIMIT @limit';

export interface DeviceFilter {
  vendor?: string;
  model?: string;
  locationId?: number;
  ownerExtension?: string;
  q?: string;
  /** owner / guest / unassigned, as DeviceService.stateOf derives it (an active session makes a guest). */
  state?: 'owner' | 'guest' | 'unassigned';
}

const ACTIVE_SESSION = 'EXISTS (SELECT 1 FROM sessions s WHERE s.mac = devices.mac AND s.ended_at IS NULL)';

/** One config fetch, as recorded for the device (see FetchRecorder for batching). */
export interface FetchRecord {
  mac: Mac;
  at: number;
  ip: string;
  userAgent: string | null;
  model: string | null;
  firmware: string | null;
  file: string;
  status: number;
  /** Set when a device config file was served: the version and line it carried. */
  configVersion: number | null;
  lineUser: string | null;
  extension: string | null;
  /**
   * Set on a repeat record (server/services/fetch-folds.ts): not a fetch of its own but `repeats`
   * more fetches counted on the row of the fetch this record copies (same mac, file and `at`),
   * the newest of them at `lastAt`.
   */
  repeats?: number;
  lastAt?: number;
}

/** A fetch-log row as fetchHistory reads it. */
export type FetchHistoryEntry = Omit<FetchRecord, 'lineUser' | 'extension' | 'repeats' | 'lastAt'> & { repeats: number; lastAt: number | null };

/**
 * Device rows (`inner`, any SELECT * FROM devices) with their last fetch: the newest fetch_log
 * row of the device, unless it predates the device (a MAC deleted and added again). Model and
 * firmware are the newest known, as a fetch without a User-Agent carries neither.
 */
function withLastFetch(inner: string): string {
  const newest = (col: string) => `CASE WHEN f.id IS NULL THEN NULL ELSE coalesce(f.${col},
    (SELECT ${col} FROM fetch_log WHERE mac = d.mac AND ${col} IS NOT NULL AND at >= d.created_at ORDER BY id DESC LIMIT 1)) END`;
  return `SELECT d.*, coalesce(f.last_repeat_at, f.at) AS last_fetch_at, f.repeat_count AS last_fetch_repeats, f.ip AS last_fetch_ip, f.user_agent AS last_fetch_ua, f.file AS last_fetch_file,
      ${newest('model')} AS last_fetch_model, ${newest('firmware')} AS last_fetch_firmware
    FROM (${inner}) d
    LEFT JOIN fetch_log f ON f.id = (SELECT id FROM fetch_log WHERE mac = d.mac ORDER BY id DESC LIMIT 1) AND f.at >= d.created_at
    ORDER BY d.mac`;
}

/** The WHERE clause (with its parameters) of a device list filter. */
function filterSql(filter: DeviceFilter): { where: string; params: Record<string, unknown> } {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  if (filter.vendor !== undefined) { where.push('vendor = @vendor'); params.vendor = filter.vendor; }
  if (filter.model !== undefined) { where.push('model = @model'); params.model = filter.model; }
  if (filter.locationId !== undefined) { where.push('location_id = @locationId'); params.locationId = filter.locationId; }
  if (filter.ownerExtension !== undefined) { where.push('owner_extension = @owner'); params.owner = filter.ownerExtension; }
  if (filter.q !== undefined) {
    where.push(`(mac LIKE @q ESCAPE '\\' OR label LIKE @q ESCAPE '\\' OR model LIKE @q ESCAPE '\\' OR owner_extension LIKE @q ESCAPE '\\')`);
    params.q = `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  }
  if (filter.state === 'guest') where.push(ACTIVE_SESSION);
  else if (filter.state === 'owner') where.push(`NOT ${ACTIVE_SESSION} AND owner_extension IS NOT NULL`);
  else if (filter.state === 'unassigned') where.push(`NOT ${ACTIVE_SESSION} AND owner_extension IS NULL`);
  return { where: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
}

/** A bulk change to more devices than this is noted as a change to all (workers drop everything). */
const NOTES_EACH_MAX = 256;

/** Devices whose head row is cached at most (about 100 bytes each). */
const HEAD_CACHE_MAX = 250_000;
/** Fetch-log rows kept per device, and how many may accumulate before it is trimmed. */
const FETCH_LOG_KEEP = 200;
const PRUNE_EVERY = 50;

export class DeviceStore {
  private readonly byMac;
  private readonly headOf;
  private readonly versionOf;
  private readonly ins;
  private readonly upd;
  private readonly del;
  private readonly fetchesOf;
  private readonly bump;
  private readonly bumpMany;
  private readonly forUser;
  private readonly atLocation;
  private readonly ofVendor;
  private readonly fetchServed;
  private readonly fetchLog;
  private readonly fetchPrune;
  private readonly fetchRepeat;
  private readonly fetchLogRepeated;
  private readonly count_;

  /**
   * The hot path's per-request read, cached. Every write to the devices table goes through this
   * store and drops the affected entries inside its own (synchronous) transaction, so a request
   * after the commit always re-reads. Unknown MACs are cached too (scanners ask repeatedly).
   */
  private readonly heads = new Map<string, DeviceHead | null>();
  /** Fetch-log rows written per device since its log was last trimmed. */
  private readonly sincePrune = new Map<string, number>();
  /**
   * fetched_version as this store last wrote it, per device: fetches a phone worker answered
   * arrive here without a cached head, and re-writing the same version every batch would put a
   * row update per phone on the primary. Dropped with the head on any change to the row.
   */
  private readonly servedWritten = new Map<string, number>();
  /**
   * How many times a cached row was dropped because it changed: moves with every change a phone
   * answer could see (AnswerMemo).
   */
  epoch = 0;
  /** Called with each MAC whose row changed (other stores cache per-device rows too). */
  onForget: (mac: string | null) => void = () => {};

  constructor(
    private readonly db: Db,
    /** Where every write is noted for phone workers' caches (createStores shares one). */
    private readonly notes = new DeviceChangeStore(db),
  ) {
    this.byMac = db.prepare<[string], Row>(withLastFetch('SELECT * FROM devices WHERE mac = ?'));
    this.headOf = db.prepare<[string], HeadRow>('SELECT mac, vendor, model, config_version, created_at, fetched_version FROM devices WHERE mac = ?').raw(true);
    this.count_ = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM devices');
    this.versionOf = db.prepare<[string], { config_version: number }>('SELECT config_version FROM devices WHERE mac = ?').pluck(false);
    this.ins = db.prepare(`INSERT INTO devices (mac, vendor, model, label, owner_extension, hotdesk_enabled, location_id,
      sip_contact, session_timeout, created_at, updated_at)
      VALUES (@mac, @vendor, @model, @label, @ownerExtension, @hotdeskEnabled, @locationId, @sipContact, @sessionTimeout, @now, @now)`);
    this.upd = db.prepare(`UPDATE devices SET vendor = @vendor, model = @model, label = @label,
      owner_extension = @ownerExtension, hotdesk_enabled = @hotdeskEnabled, location_id = @locationId,
      sip_contact = @sipContact, session_timeout = @sessionTimeout,
      updated_at = @now WHERE mac = @mac`);
    this.del = db.prepare('DELETE FROM devices WHERE mac = ?');
    this.fetchesOf = db.prepare('DELETE FROM fetch_log WHERE mac = ?');
    this.bump = db.prepare('UPDATE devices SET config_version = config_version + 1, updated_at = ? WHERE mac = ?');
    this.bumpMany = db.prepare(`UPDATE devices SET config_version = config_version + 1, updated_at = ?
      WHERE mac IN (SELECT value FROM json_each(?))`);
    this.forUser = db.prepare<[string, string]>(`SELECT mac FROM devices WHERE owner_extension = ?
      UNION SELECT mac FROM sessions WHERE extension = ? AND ended_at IS NULL`);
    this.atLocation = db.prepare<[number]>('SELECT mac FROM devices WHERE location_id = ?');
    this.ofVendor = db.prepare<[string]>('SELECT mac FROM devices WHERE vendor = ?');
    // Never backwards: a phone worker's records can arrive after newer ones the primary wrote (they
    // travel in batches), and a device's config versions only go up.
    this.fetchServed = db.prepare(`UPDATE devices SET fetched_version = @configVersion, fetched_line_user = @lineUser,
      fetched_extension = @extension WHERE mac = @mac AND (fetched_version IS NULL OR fetched_version < @configVersion)`);
    // Positional: one row per phone request, and binding by name costs about 2 µs more a row.
    this.fetchLog = db.prepare<[string, number, string, string | null, string | null, string | null, string, number, number | null]>(
      `INSERT INTO fetch_log (mac, at, ip, user_agent, model, firmware, file, status, config_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.fetchLogRepeated = db.prepare<[string, number, string, string | null, string | null, string | null, string, number, number | null, number, number | null]>(
      `INSERT INTO fetch_log (mac, at, ip, user_agent, model, firmware, file, status, config_version, repeat_count, last_repeat_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.fetchRepeat = db.prepare<[number, number, string, string, number]>(`UPDATE fetch_log SET repeat_count = repeat_count + ?,
      last_repeat_at = max(coalesce(last_repeat_at, 0), ?) WHERE id = (SELECT id FROM fetch_log WHERE mac = ? AND file = ? AND at = ? ORDER BY id DESC LIMIT 1)`);
    this.fetchPrune = db.prepare<[string, string]>(`DELETE FROM fetch_log WHERE mac = ? AND id <= coalesce(
      (SELECT id FROM fetch_log WHERE mac = ? ORDER BY id DESC LIMIT 1 OFFSET ${FETCH_LOG_KEEP}), 0)`);
  }

  get(mac: string): DeviceRecord | null {
    const r = this.byMac.get(mac);
    return r ? toDevice(r) : null;
  }

  /** The lean per-request read (see DeviceHead). */
  head(mac: string): DeviceHead | null {
    const cached = this.heads.get(mac);
    if (cached !== undefined) return cached;
    const r = this.headOf.get(mac);
    const head: DeviceHead | null = r ? { mac: r[0] as Mac, vendor: r[1], model: r[2], configVersion: r[3], createdAt: r[4], fetchedVersion: r[5] } : null;
    // Never cache what a transaction may still roll back.
    if (this.db.inTransaction) return head;
    if (this.heads.size >= HEAD_CACHE_MAX) this.heads.clear();
    this.heads.set(mac, head);
    return head;
  }

  /**
   * Drop one device's cached head only: its fetched_version changed in another process (a phone
   * worker reading a fetched note). Its renders and download-auth row stay valid.
   */
  forgetHead(mac: string): void {
    this.epoch++;
    this.heads.delete(mac);
  }

  /** Drop cached rows: one device, or all (`null`). */
  forget(mac: string | null): void {
    this.epoch++;
    if (mac === null) {
      this.heads.clear();
      this.servedWritten.clear();
    } else {
      this.heads.delete(mac);
      this.servedWritten.delete(mac);
    }
    this.onForget(mac);
  }

  count(): number {
    return this.count_.get()?.n ?? 0;
  }

  configVersion(mac: string): number | null {
    return this.versionOf.get(mac)?.config_version ?? null;
  }

  list(filter: DeviceFilter = {}, limit = 1000, offset = 0): DeviceRecord[] {
    const { where, params } = filterSql(filter);
    const sql = withLastFetch(`SELECT * FROM devices ${where} ORDER BY mac LIMIT @limit OFFSET @offset`);
    return (this.db.prepare(sql).all({ ...params, limit, offset }) as Row[]).map(toDevice);
  }

  /**
   * Every device, `chunk` rows at a time in MAC order (keyset paging: each chunk is one indexed
   * read, never one array of the whole fleet).
   */
  each(chunk = 1000): Generator<DeviceRecord[]> {
    return this.pages(withLastFetch(PAGE), toDevice, chunk);
  }

  /** Like each(), with the device's own fields only (no last fetch: a lighter read). */
  eachWrite(chunk = 1000): Generator<DeviceWrite[]> {
    return this.pages(PAGE, toWrite, chunk);
  }

  private *pages<T extends { mac: string }>(sql: string, map: (r: Row) => T, chunk: number): Generator<T[]> {
    const page = this.db.prepare<{ after: string; limit: number }, Row>(sql);
    for (let after = '';;) {
      const rows = page.all({ after, limit: chunk }).map(map);
      if (rows.length === 0) return;
      yield rows;
      if (rows.length < chunk) return;
      after = rows[rows.length - 1]!.mac;
    }
  }


  /** How many devices match `filter` (what list() pages through). */
  countMatching(filter: DeviceFilter = {}): number {
    const { where, params } = filterSql(filter);
    return (this.db.prepare(`SELECT count(*) AS n FROM devices ${where}`).get(params) as { n: number }).n;
  }

  insert(d: DeviceWrite, now: number): void {
    this.forget(d.mac);
    this.ins.run({ ...d, hotdeskEnabled: d.hotdeskEnabled ? 1 : 0, now });
    this.notes.note(d.mac);
  }

  /** Update the editable fields (the caller bumps the config version through ChangeTracker). */
  update(d: DeviceWrite, now: number): void {
    this.forget(d.mac);
    this.upd.run({ ...d, hotdeskEnabled: d.hotdeskEnabled ? 1 : 0, now });
    this.notes.note(d.mac);
  }

  delete(mac: string): void {
    this.forget(mac);
    this.del.run(mac);
    this.fetchesOf.run(mac);
    this.notes.note(mac);
  }

  bumpVersion(mac: string, now: number): void {
    this.forget(mac);
    this.bump.run(now, mac);
    this.notes.note(mac);
  }

  /** Bump many devices with one statement (sweeps and template saves touch thousands). */
  bumpVersions(macs: readonly string[], now: number): void {
    if (macs.length === 1) return this.bumpVersion(macs[0]!, now);
    for (const mac of macs) this.forget(mac);
    this.bumpMany.run(now, JSON.stringify(macs));
    if (macs.length > NOTES_EACH_MAX) this.notes.note(ALL_DEVICES);
    else for (const mac of macs) this.notes.note(mac);
  }

  /** Devices whose line is this user's: owned by them, or where they sit as a guest. */
  macsForUser(extension: string): Mac[] {
    return (this.forUser.all(extension, extension) as { mac: Mac }[]).map((r) => r.mac);
  }

  macsAtLocation(locationId: number): Mac[] {
    return (this.atLocation.all(locationId) as { mac: Mac }[]).map((r) => r.mac);
  }

  macsOfVendor(vendor: string): Mac[] {
    return (this.ofVendor.all(vendor) as { mac: Mac }[]).map((r) => r.mac);
  }

  /** Write a batch of fetch records in one transaction (FetchRecorder without a writer thread). */
  recordFetches(records: readonly FetchRecord[]): void {
    const served = this.servedChanges(records);
    this.writeFetches(records, served);
    // Only once committed: a batch that rolled back must be written again.
    this.fetchesWritten(served);
  }

  /**
   * The fetched_version writes a batch needs: per device, its last record that carries a config
   * version, unless the row is known to hold that version already (the cached head, or what was
   * last written). A phone re-fetching the version it has changes nothing, so the cached head
   * stays. (One config version always renders the same line, so the version alone tells.)
   */
  servedChanges(records: readonly FetchRecord[]): FetchRecord[] {
    const served = new Map<string, FetchRecord>();
    for (const f of records) if (f.configVersion !== null) served.set(f.mac, f);
    const changes: FetchRecord[] = [];
    for (const f of served.values()) {
      const head = this.heads.get(f.mac);
      if (head ? head.fetchedVersion === f.configVersion : this.servedWritten.get(f.mac) === f.configVersion) continue;
      changes.push(f);
    }
    return changes;
  }

  /**
   * Writes fetch records and the `served` versions in one transaction. Touches no cache: it also
   * runs on the fetch-log writer thread, with a store of its own (server/services/fetch-writer.ts);
   * the caller then calls fetchesWritten. (A device's last fetch is its newest fetch_log row.)
   */
  writeFetches(records: readonly FetchRecord[], served: readonly FetchRecord[]): void {
    const macs = new Set<string>();
    this.db.transaction(() => {
      for (const f of records) {
        if (f.repeats === undefined) {
          this.fetchLog.run(f.mac, f.at, f.ip, f.userAgent, f.model, f.firmware, f.file, f.status, f.configVersion);
        } else {
          const lastAt = f.lastAt ?? f.at;
          if (this.fetchRepeat.run(f.repeats, lastAt, f.mac, f.file, f.at).changes > 0) continue;
          // Its row is gone (the device was deleted, or the row trimmed or never written): the
          // fetches it counted get a row of their own.
          this.fetchLogRepeated.run(f.mac, lastAt, f.ip, f.userAgent, f.model, f.firmware, f.file, f.status, f.configVersion,
            f.repeats - 1, f.repeats > 1 ? lastAt : null);
        }
        this.sincePrune.set(f.mac, (this.sincePrune.get(f.mac) ?? 0) + 1);
        macs.add(f.mac);
      }
      for (const f of served) {
        this.fetchServed.run(f);
        this.notes.noteFetched(f.mac);
      }
      // Trim a device's log only once it has grown by PRUNE_EVERY rows: trimming every device on
      // every batch blocked the event loop for tens of milliseconds in a boot storm.
      for (const mac of macs) {
        if ((this.sincePrune.get(mac) ?? 0) < PRUNE_EVERY) continue;
        this.fetchPrune.run(mac, mac);
        this.sincePrune.delete(mac);
      }
    }).immediate();
  }

  /** After writeFetches committed: heads whose fetched_version changed are dropped (renders stay valid). */
  fetchesWritten(served: ReadonlyArray<Pick<FetchRecord, 'mac' | 'configVersion'>>): void {
    if (this.servedWritten.size + served.length > HEAD_CACHE_MAX) this.servedWritten.clear();
    for (const f of served) {
      this.forgetHead(f.mac);
      if (f.configVersion !== null) this.servedWritten.set(f.mac, f.configVersion);
    }
  }

  /**
   * Newest first; like the last fetch, none from before the device was added (a MAC deleted and
   * added again). `repeats`: identical fetches after `at` that the row counts, the newest at `lastAt`.
   */
  fetchHistory(mac: string, limit = 50): FetchHistoryEntry[] {
    return this.db
      .prepare(`SELECT mac, at, ip, user_agent AS userAgent, model, firmware, file, status, config_version AS configVersion,
          repeat_count AS repeats, last_repeat_at AS lastAt
        FROM fetch_log WHERE mac = ? AND at >= coalesce((SELECT created_at FROM devices WHERE mac = ?), 0) ORDER BY id DESC LIMIT ?`)
      .all(mac, mac, limit) as FetchHistoryEntry[];
  }
}
