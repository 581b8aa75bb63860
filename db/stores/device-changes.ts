import type { Db } from '../index.js';

export interface DeviceChange {
  seq: number;
  mac: string;
  /** 1: only the device's fetched_version changed (noteFetched); 0: anything else. */
  fetched: 0 | 1;
}

/** A note that names every device (a change to thousands at once). */
export const ALL_DEVICES = '*';

/**
 * Notes of changed device and download-auth rows (migration 007), so that a phone worker, which
 * reads the database another process writes, can keep those rows cached and still drop each one
 * as soon as a change to it is committed. DeviceStore and DownloadAuthStore note every write,
 * after the statement that makes it: a worker that reads a note finds the change committed.
 */
export class DeviceChangeStore {
  private readonly after;
  private readonly newest;
  private readonly trim_;
  private readonly note_;
  private readonly noteFetched_;

  constructor(db: Db) {
    this.note_ = db.prepare<[string]>('INSERT INTO device_changes (mac) VALUES (?)');
    this.noteFetched_ = db.prepare<[string]>('INSERT INTO device_changes (mac, fetched) VALUES (?, 1)');
    this.after = db.prepare<[number, number], DeviceChange>('SELECT seq, mac, fetched FROM device_changes WHERE seq > ? ORDER BY seq LIMIT ?');
    this.newest = db.prepare<[], number | null>('SELECT max(seq) FROM device_changes').pluck();
    this.trim_ = db.prepare<[number]>('DELETE FROM device_changes WHERE seq <= ?');
  }

  /** Notes a change to `mac` (ALL_DEVICES: to every device). */
  note(mac: string): void {
    this.note_.run(mac);
  }

  /**
   * Notes that only `mac`'s fetched_version changed (a phone fetched a new config version): a
   * worker re-reads the device's head and keeps its renders.
   */
  noteFetched(mac: string): void {
    this.noteFetched_.run(mac);
  }

  /** The sequence number of the newest note (0 when there is none). */
  latest(): number {
    return this.newest.get() ?? 0;
  }

  /** Up to `limit` notes after `seq`, oldest first. */
  since(seq: number, limit: number): DeviceChange[] {
    return this.after.all(seq, limit);
  }

  /** Keeps the newest `keep` notes (at least one, so sequence numbers never restart); returns how many went. */
  trim(keep: number): number {
    return this.trim_.run(this.latest() - Math.max(1, keep)).changes;
  }
}
