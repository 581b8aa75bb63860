import type { Db } from '../index.js';
import { ApiTokenStore } from './api-tokens.js';
import { AuditStore } from './audit.js';
import { DownloadAuthStore } from './download-auth.js';
import { DeviceChangeStore } from './device-changes.js';
import { DeviceFileStore } from './device-files.js';
import { DeviceStore } from './devices.js';
import { LocationStore } from './locations.js';
import { NotifyLogStore } from './notify-log.js';
import { OutboxStore } from './outbox.js';
import { RenderedFileStore } from './rendered-files.js';
import { SessionStore } from './sessions.js';
import { TemplateStore } from './templates.js';
import { UserStore } from './users.js';
import { ViewPartStore } from './view-parts.js';

export interface Stores {
  db: Db;
  users: UserStore;
  locations: LocationStore;
  devices: DeviceStore;
  sessions: SessionStore;
  /** A device's session, guest, owner and location in one read (what its config shows). */
  viewParts: ViewPartStore;
  files: DeviceFileStore;
  templates: TemplateStore;
  outbox: OutboxStore;
  /** NOTIFYs sent and their answers, last 50 per device. */
  notifyLog: NotifyLogStore;
  downloadAuth: DownloadAuthStore;
  /** Notes of changed device and download-auth rows, for phone workers' caches. */
  deviceChanges: DeviceChangeStore;
  /** Device files as last rendered (served by a fresh process without rendering). */
  renderedFiles: RenderedFileStore;
  apiTokens: ApiTokenStore;
  auditLog: AuditStore;
  /** Run `fn` in one transaction (nested calls become savepoints). */
  tx<T>(fn: () => T): T;
}

/**
 * Device and download-auth rows are always cached on the phone hot path: a store drops an entry
 * on its own writes, and a phone worker (server/cluster/), which reads what another process
 * writes, also drops them as the device_changes notes tell it.
 */
export interface StoreOptions {
  /**
   * Cache which uploaded files are absent (default on). Off in a phone worker: uploads leave no
   * note, and a phone reads back what it uploaded at once.
   */
  cacheFiles?: boolean;
}

export function createStores(db: Db, o: StoreOptions = {}): Stores {
  const deviceChanges = new DeviceChangeStore(db);
  const devices = new DeviceStore(db, deviceChanges);
  const downloadAuth = new DownloadAuthStore(db, deviceChanges);
  // Deleting a device cascades to its download-auth row: drop that cache entry with it.
  devices.onForget = (mac) => downloadAuth.forget(mac);
  return {
    db,
    users: new UserStore(db),
    locations: new LocationStore(db),
    devices,
    sessions: new SessionStore(db),
    viewParts: new ViewPartStore(db),
    files: new DeviceFileStore(db, o.cacheFiles ?? true),
    templates: new TemplateStore(db),
    outbox: new OutboxStore(db),
    notifyLog: new NotifyLogStore(db),
    downloadAuth,
    deviceChanges,
    renderedFiles: new RenderedFileStore(db),
    apiTokens: new ApiTokenStore(db),
    auditLog: new AuditStore(db),
    // IMMEDIATE: the write lock is taken up front. Another connection (the fetch-log writer
    // thread) commits at any moment; a transaction that read first and wrote later would fail.
    tx: (fn) => db.transaction(fn).immediate(),
  };
}
