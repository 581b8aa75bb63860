import type { Transaction } from 'better-sqlite3';
import type { Db } from '../index.js';

/** Files phones upload (Polycom overrides, directories, call lists) and their capped logs. */
export class DeviceFileStore {
  private readonly get_;
  private readonly put_;
  private readonly append_: Transaction<(mac: string, slot: string, data: Buffer, cap: number, now: number) => void>;
  private readonly del_;
  private readonly list_;
  /**
   * Files known not to exist. A Polycom asks for `-phone.cfg`, `-license.cfg` and
   * `-directory.xml` at every boot and most are never uploaded: remembering the miss keeps
   * those probes off SQLite. Every write here drops the entries it could make wrong.
   */
  private readonly absent = new Set<string>();

  /** `caching`: see StoreOptions.cacheFiles (off in a phone worker). */
  constructor(
    private readonly db: Db,
    private readonly caching = true,
  ) {
    this.get_ = db.prepare<[string, string], { content: Buffer; updated_at: number }>(
      'SELECT content, updated_at FROM device_files WHERE mac = ? AND slot = ?',
    );
    this.put_ = db.prepare(`INSERT INTO device_files (mac, slot, content, updated_at) VALUES (?, ?, ?, ?)
      ON CONFLICT (mac, slot) DO UPDATE SET content = excluded.content, updated_at = excluded.updated_at`);
    // Append, then keep only the newest `cap` bytes (logs are capped per device).
    this.append_ = db.transaction((mac: string, slot: string, data: Buffer, cap: number, now: number) => {
      const old = this.get_.get(mac, slot)?.content;
      const joined = old ? Buffer.concat([old, data]) : data;
      this.put_.run(mac, slot, joined.length > cap ? joined.subarray(joined.length - cap) : joined, now);
    });
    this.del_ = db.prepare('DELETE FROM device_files WHERE mac = ?');
    this.list_ = db.prepare<[string], { slot: string; size: number; updated_at: number }>(
      'SELECT slot, length(content) AS size, updated_at FROM device_files WHERE mac = ? ORDER BY slot',
    );
  }

  get(mac: string, slot: string): { content: Buffer; updatedAt: number } | null {
    const key = `${mac}/${slot}`;
    if (this.absent.has(key)) return null;
    const r = this.get_.get(mac, slot);
    if (r) return { content: r.content, updatedAt: r.updated_at };
    if (this.caching && !this.db.inTransaction) {
      if (this.absent.size >= 500_000) this.absent.clear();
      this.absent.add(key);
    }
    return null;
  }

  /** The device's stored files without their content, by slot name. */
  list(mac: string): Array<{ slot: string; size: number; updatedAt: number }> {
    return this.list_.all(mac).map((r) => ({ slot: r.slot, size: r.size, updatedAt: r.updated_at }));
  }

  /**
   * One stored file, read from the database past the absence cache: a phone worker (another
   * process) may have stored it since this process last missed it.
   */
  read(mac: string, slot: string): { content: Buffer; updatedAt: number } | null {
    const r = this.get_.get(mac, slot);
    return r ? { content: r.content, updatedAt: r.updated_at } : null;
  }

  put(mac: string, slot: string, content: Buffer, now: number): void {
    this.absent.delete(`${mac}/${slot}`);
    this.put_.run(mac, slot, content, now);
  }

  append(mac: string, slot: string, data: Buffer, capBytes: number, now: number): void {
    this.absent.delete(`${mac}/${slot}`);
    this.append_.immediate(mac, slot, data, capBytes, now);
  }

  deleteAll(mac: string): void {
    // Only misses are remembered, and deleting makes more files missing: nothing to drop.
    this.del_.run(mac);
  }
}
