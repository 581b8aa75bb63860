/**
 * Builds every service from config, database, clock and logger. main.ts adds sockets, cron
 * and signals on top; tests build the same graph over a temp database and a manual clock.
 */
import type { Db } from '../db/index.js';
import { createStores, type StoreOptions, type Stores } from '../db/stores/index.js';
import { ConsoleSessionStore } from '../db/stores/console-sessions.js';
import type { Config } from './config.js';
import { parseDuration } from './domain/duration.js';
import type { Logger } from './log.js';
import type { AuditSink } from './services/audit.js';
import { SqliteAuditSink } from './services/audit-log.js';
import { TokenAuthenticator, TokenService } from './services/api-tokens.js';
import { DownloadAuthService } from './services/download-auth.js';
import { PhoneAccess } from './services/phone-access.js';
import { ChangeTracker } from './services/change-tracker.js';
import type { Clock } from './services/clock.js';
import { DeviceCsv } from './services/device-csv.js';
import { LogoutKeys } from './services/logout-keys.js';
import { DeviceViewBuilder } from './services/device-view.js';
import { DeviceService } from './services/devices.js';
import { EnumerationGuard } from './services/enumeration-guard.js';
import { FetchRecorder } from './services/fetch-recorder.js';
import { FetchLogWriter, type FetchWriter } from './services/fetch-writer.js';
import { LocationService } from './services/locations.js';
import { ProvisioningService } from './services/provisioning.js';
import { Renderer } from './services/renderer.js';
import { PreRenderer } from './services/prerender.js';
import { RenderStamp } from './services/render-stamp.js';
import { StoredRenders } from './services/stored-renders.js';
import { TemplateCatalog } from './services/template-catalog.js';
import { TemplateService } from './services/templates.js';
import type { Authenticator } from './services/tokens.js';
import { UserService } from './services/users.js';
import { HotdeskService } from './services/hotdesk.js';
import { PinGuard } from './services/pin-guard.js';
import { createMetrics, type Metrics } from './metrics.js';
import { projectPath } from './project.js';
import { SyncStatus } from './services/sync-status.js';
import { ResyncDispatcher, type ResyncOptions, type ResyncResult, type SchedulerTimers } from './services/resync.js';
import { parseProxy } from './services/resync-target.js';
import type { SipNotifier } from './sip/notifier.js';

export interface ContextOptions {
  config: Config;
  db: Db;
  clock: Clock;
  log: Logger;
  /** Directory of operator template files (templates/ at the repo root by default). */
  templateDir?: string | null;
  /** Store options (a phone worker keeps absent uploads uncached). */
  stores?: StoreOptions;
  /**
   * Write fetch records on a worker thread of their own (server/services/fetch-writer.ts):
   * main.ts passes `provisioning.fetchLogThread`. Never for an in-memory database.
   */
  fetchLogThread?: boolean;
  /** Where fetch records go instead of this process's database (a phone worker's: the primary). */
  fetchWriter?: FetchWriter;
  /** A phone worker's context: what would write defers to the primary (server/services/defer.ts). */
  replica?: boolean;
}

export interface Context {
  config: Config;
  clock: Clock;
  log: Logger;
  stores: Stores;
  changes: ChangeTracker;
  catalog: TemplateCatalog;
  views: DeviceViewBuilder;
  /** The keys in guests' Logout URLs (phone screens). */
  logoutKeys: LogoutKeys;
  renderer: Renderer;
  /** Rendered device files kept in SQLite (write-behind); flushed on shutdown. */
  storedRenders: StoredRenders;
  /** Renders device files ahead of fetches; main.ts starts it (`provisioning.prerender`). */
  prerender: PreRenderer;
  recorder: FetchRecorder;
  guard: EnumerationGuard;
  provisioning: ProvisioningService;
  users: UserService;
  locations: LocationService;
  devices: DeviceService;
  csv: DeviceCsv;
  auth: Authenticator;
  audit: AuditSink;
  /** Hot desking: login/logout/sweep through the device state machine (server/services/hotdesk.ts). */
  hotdesk: HotdeskService;
  /** Extension + PIN checks under the lockout rules, for every route in. */
  pins: PinGuard;
  /** Admin web console sign-ins (server/http/console.ts). */
  consoleSessions: ConsoleSessionStore;
  /** Template versions, checks, previews, diffs and the resync a change causes. */
  templates: TemplateService;
  /** The audit log behind `audit` (queries for GET /api/v1/audit). */
  auditLog: SqliteAuditSink;
  /** Named admin API tokens (create, list, rotate, revoke). */
  tokens: TokenService;
  /** Failed admin-token attempts per IP (bearerAuth answers 429 when blocked). */
  adminGuard: EnumerationGuard;
  /** Per-device download credentials and modes. */
  downloadAuth: DownloadAuthService;
  /** Prometheus metrics on their own registry (GET /metrics); the resync dispatcher bumps `metrics.notifies`. */
  metrics: Metrics;
  /** Each device's resync loop: wanted/fetched versions, last NOTIFY, stale, pending. */
  sync: SyncStatus;
  /** The NOTIFY dispatcher once main.ts (or a test) made one with createResyncDispatcher. */
  resync?: ResyncDispatcher;
}

const ms = (d: string) => parseDuration(d) ?? 0;

/** A per-IP failure counter that blocks, logging one fail2ban-friendly security line per block. */
function blockingGuard(
  limits: { maxFailures: number; window: string; blockFor: string },
  clock: Clock,
  log: Logger,
  scope: string | null,
  what: string,
): EnumerationGuard {
  const guard = new EnumerationGuard({ maxFailures: limits.maxFailures, windowMs: ms(limits.window), blockForMs: ms(limits.blockFor) }, clock);
  guard.onBlock = (b) =>
    log.warn(
      { event: 'security', kind: 'ip-blocked', ip: b.ip, ...(scope ? { scope } : {}), failures: b.failures, until: new Date(b.until).toISOString() },
      `deskprov blocked ${b.ip} after ${b.failures} ${what}`,
    );
  return guard;
}

export function createContext(o: ContextOptions): Context {
  const { config, db, clock, log } = o;
  const stores = createStores(db, o.stores);
  // Device and location edits resync only the phones whose files they change (renderer, below).
  const changes = new ChangeTracker(stores.devices, stores.outbox, clock, (d) => renderer.digest(d));
  const catalog = new TemplateCatalog(stores.templates, o.templateDir === undefined ? projectPath('templates') : o.templateDir);
  const auditLog = new SqliteAuditSink(stores.auditLog, clock);
  const audit: AuditSink = auditLog;
  const downloadAuth = new DownloadAuthService(stores, changes, audit, clock, {
    defaultMode: config.security.downloadAuth.defaultMode,
    realm: config.security.downloadAuth.realm,
    nonceLifetimeMs: ms(config.security.downloadAuth.nonceLifetime),
    allowBasic: config.security.downloadAuth.allowBasic,
    newDeviceGraceMs: ms(config.security.downloadAuth.newDeviceGrace),
    replica: o.replica === true,
  });
  const logoutKeys = new LogoutKeys((name, make) => stores.downloadAuth.secret(name, make)).prepare();
  const views = new DeviceViewBuilder(stores, config, (d) => downloadAuth.credentialsFor(d), (s) => logoutKeys.of(s));
  const storedRenders = new StoredRenders(stores.renderedFiles, 250, 256, (err) => log.error({ err }, 'could not store rendered files'));
  const renderer = new Renderer(catalog, views, config.provisioning.renderCacheMb * 1024 * 1024, {
    stored: storedRenders,
    stamp: new RenderStamp(views, config.provisioning.timeZone),
    now: () => clock.now(),
  });
  const prerender = new PreRenderer(
    { devices: stores.devices, rendered: stores.renderedFiles, renderer, stored: storedRenders, changes, catalog, log },
    { enabled: config.provisioning.prerender },
  );
  // A device row that changes (or goes) takes its cached renders with it.
  const forgetDownloadAuth = stores.devices.onForget;
  stores.devices.onForget = (mac) => {
    forgetDownloadAuth(mac);
    renderer.forget(mac);
  };
  const recordError = (err: unknown) => log.error({ err }, 'could not record fetches');
  const writer = o.fetchWriter ?? (o.fetchLogThread && db.name !== ':memory:' && !db.memory ? new FetchLogWriter(db, stores.devices, recordError) : undefined);
  const recorder = new FetchRecorder(stores.devices, 250, 2000, recordError, writer, {
    windowMs: ms(config.provisioning.fetchLogRepeatWindow),
    now: () => clock.now(),
  });
  const guard = blockingGuard(config.security.enumeration, clock, log, null, 'failed phone requests');
  const access = new PhoneAccess(downloadAuth, guard, log, {
    allowlist: config.security.allowlist,
    requireClientCert: config.http.tls?.requireClientCert ?? false,
  });
  const provisioning = new ProvisioningService({ config, devices: stores.devices, files: stores.files, renderer, recorder, guard, clock, log, access });
  const adminGuard = blockingGuard(config.security.adminAuth, clock, log, 'admin-api', 'failed admin token attempts');

  const pins = new PinGuard(stores.users, clock, { maxAttempts: config.hotdesk.pinMaxAttempts, lockoutMs: ms(config.hotdesk.pinLockout) });
  const hotdesk = new HotdeskService({ stores, changes, clock, audit, config, pins });
  const users = new UserService(stores, changes, clock, audit, config.hotdesk.pinMinLength, {
    endSessionsOfUser: (ext) => hotdesk.endSessionsOfUser(ext),
    endGuestSessionsOf: (ext, actor) => hotdesk.endGuestSessionsOf(ext, actor),
  });
  const locations = new LocationService(stores, changes, clock, audit);
  const devices = new DeviceService(
    stores,
    changes,
    clock,
    audit,
    {
      endSessionOn: (mac, reason) => hotdesk.endSessionOn(mac, reason),
      edited: (before, next, actor) => hotdesk.deviceEdited(before, next, actor),
      sessionEndsAt: (s) => views.sessionEndsAt(s),
      syncOf: (d) => sync.of(d),
      syncOfMany: (ds) => sync.ofMany(ds),
      templateOf: (d) => {
        const t = catalog.resolve(d.vendor, 'device', d.model);
        return t ? `${t.vendor}/${t.name}` : null;
      },
    },
    config.hotdesk.requireLocation,
  );
  const csv = new DeviceCsv(stores, devices);
  const sync = new SyncStatus(stores.notifyLog, stores.outbox, clock, ms(config.sip.staleAfter));
  const auth = new TokenAuthenticator(db, stores.apiTokens, clock);
  const consoleSessions = new ConsoleSessionStore(db);
  const tokens = new TokenService(stores.apiTokens, stores.tx, audit, clock, (name) => consoleSessions.deleteForActor(name));
  const templates = new TemplateService(stores, catalog, views, changes, clock, audit);
  const metrics = createMetrics({
    outboxDepth: () => stores.outbox.depth(),
    activeSessions: () => stores.sessions.countActive(),
    blockedIps: () => guard.list().length,
    renderCache: () => renderer.cacheStats(),
    prerenderPending: () => prerender.pending(),
    fetchRecordsPending: () => recorder.pending(),
  });
  renderer.onRender = (seconds, vendor) => metrics.observeRender(vendor, seconds);
  return { config, clock, log, stores, changes, catalog, views, logoutKeys, renderer, storedRenders, prerender, recorder, guard, provisioning, users, locations, devices, csv, auth, audit, hotdesk, pins, consoleSessions, templates, auditLog, tokens, adminGuard, downloadAuth, sync, metrics };
}

export interface ResyncWiring {
  timers?: SchedulerTimers;
  /** Called once per settled NOTIFY (outcome + status), after the metrics counter. */
  onResult?: (r: ResyncResult) => void;
  /** Overrides of the defaults (maxInFlight, maxAttempts, retry backoff, poll interval). */
  options?: Partial<ResyncOptions>;
}

/**
 * The resync dispatcher over `notifier` (the real SipNotifyClient in main.ts, a fake or a
 * client against SIPp in tests), attached to `ctx.resync` for the status API. Not started.
 */
export function createResyncDispatcher(ctx: Context, notifier: SipNotifier, w: ResyncWiring = {}): ResyncDispatcher {
  const sip = ctx.config.sip;
  const proxy = sip.outboundProxy === null ? null : parseProxy(sip.outboundProxy);
  if (sip.outboundProxy !== null && proxy === null) throw new Error(`sip.outboundProxy: expected a SIP URI like sip:pbx.example.com:5060, got ${JSON.stringify(sip.outboundProxy)}`);
  const dispatcher = new ResyncDispatcher(
    {
      stores: ctx.stores, changes: ctx.changes, notifier, clock: ctx.clock, log: ctx.log,
      ...(w.timers ? { timers: w.timers } : {}),
      // deskprov_notifies_total{result="ok|retry|gave-up|answered|no-target|invalid"}, then the caller's hook.
      onResult: (r) => {
        ctx.metrics.notifies.inc({ result: r.outcome });
        w.onResult?.(r);
      },
    },
    { maxPerSecond: sip.maxNotifiesPerSecond, maxAttempts: sip.maxAttempts, phonePort: sip.phonePort, events: sip.events, proxy, ...w.options },
  );
  ctx.resync = dispatcher;
  return dispatcher;
}
