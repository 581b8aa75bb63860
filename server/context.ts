/**
 * Builds every service from config, database, clock and logger. main.ts adds sockets, cron
 * and signals on top; tests build the same graph over a temp database and a manual clock.
 */
import type { Db } from '../db/index.js';
import { createStores, type Stores } from '../db/stores/index.js';
import type { Config } from './config.js';
import { parseDuration } from './domain/duration.js';
import type { Logger } from './log.js';
import { noAudit, type AuditSink } from './services/audit.js';
import { ChangeTracker } from './services/change-tracker.js';
import type { Clock } from './services/clock.js';
import { DeviceCsv } from './services/device-csv.js';
import { DeviceViewBuilder } from './services/device-view.js';
import { DeviceService } from './services/devices.js';
import { EnumerationGuard } from './services/enumeration-guard.js';
import { FetchRecorder } from './services/fetch-recorder.js';
import { LocationService } from './services/locations.js';
import { ProvisioningService } from './services/provisioning.js';
import { Renderer } from './services/renderer.js';
import { TemplateCatalog } from './services/template-catalog.js';
import { BootstrapTokenAuth, type Authenticator } from './services/tokens.js';
import { UserService } from './services/users.js';

export interface ContextOptions {
  config: Config;
  db: Db;
  clock: Clock;
  log: Logger;
  /** Directory of operator template files (templates/ at the repo root by default). */
  templateDir?: string | null;
}

export interface Context {
  config: Config;
  clock: Clock;
  log: Logger;
  stores: Stores;
  changes: ChangeTracker;
  catalog: TemplateCatalog;
  views: DeviceViewBuilder;
  renderer: Renderer;
  recorder: FetchRecorder;
  guard: EnumerationGuard;
  provisioning: ProvisioningService;
  users: UserService;
  locations: LocationService;
  devices: DeviceService;
  csv: DeviceCsv;
  auth: Authenticator;
  audit: AuditSink;
}

const ms = (d: string) => parseDuration(d) ?? 0;

export function createContext(o: ContextOptions): Context {
  const { config, db, clock, log } = o;
  const stores = createStores(db);
  const changes = new ChangeTracker(stores.devices, stores.outbox, clock);
  const catalog = new TemplateCatalog(stores.templates, o.templateDir === undefined ? new URL('../templates/', import.meta.url).pathname : o.templateDir);
  const views = new DeviceViewBuilder(stores, config);
  const renderer = new Renderer(catalog, views);
  const recorder = new FetchRecorder(stores.devices, 250, 2000, (err) => log.error({ err }, 'could not record fetches'));
  const guard = new EnumerationGuard(
    {
      maxFailures: config.security.enumeration.maxFailures,
      windowMs: ms(config.security.enumeration.window),
      blockForMs: ms(config.security.enumeration.blockFor),
    },
    clock,
  );
  guard.onBlock = (b) =>
    log.warn({ event: 'security', kind: 'ip-blocked', ip: b.ip, failures: b.failures, until: new Date(b.until).toISOString() },
      `deskprov blocked ${b.ip} after ${b.failures} failed phone requests`);
  const audit: AuditSink = noAudit;
  const provisioning = new ProvisioningService({ config, devices: stores.devices, files: stores.files, renderer, recorder, guard, clock, log });

  const endSessions = (macs: string[], reason: 'user-deleted' | 'device-deleted') => {
    const now = clock.now();
    for (const mac of macs) {
      const sess = stores.sessions.activeOn(mac);
      if (sess) stores.sessions.finish(sess.id, now, reason);
    }
  };
  const users = new UserService(stores, changes, clock, audit, config.hotdesk.pinMinLength, {
    endSessionsOfUser: (ext) => {
      const macs = stores.sessions.activeFor(ext).map((x) => x.mac);
      endSessions(macs, 'user-deleted');
      changes.changed(macs as never, `user ${ext} deleted`);
      return macs;
    },
  });
  const locations = new LocationService(stores, changes, clock, audit);
  const devices = new DeviceService(
    stores,
    changes,
    clock,
    audit,
    {
      endSessionOn: (mac, reason) => endSessions([mac], reason),
      syncOf: (d) => ({ configVersion: d.configVersion, fetchedVersion: d.fetchedVersion }),
      templateOf: (d) => {
        const t = catalog.resolve(d.vendor, 'device', d.model);
        return t ? `${t.vendor}/${t.name}` : null;
      },
    },
    config.hotdesk.requireLocation,
  );
  const csv = new DeviceCsv(stores, devices);
  const auth = new BootstrapTokenAuth(db);
  return { config, clock, log, stores, changes, catalog, views, renderer, recorder, guard, provisioning, users, locations, devices, csv, auth, audit };
}
