/**
 * Download authentication per device. Each device gets a random username/password that is
 * written into its own config (`provision`) and, once the phone has it, required for every file
 * of that device (`enforce`). Verification (Digest MD5/SHA-256 with stateless HMAC nonces, or
 * Basic) runs only for devices in enforce mode.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { DeviceHead, DeviceRecord, DeviceRow } from '../../db/stores/devices.js';
import type { DownloadAuthMode, DownloadAuthRecord, DownloadAuthStore } from '../../db/stores/download-auth.js';
import type { Stores } from '../../db/stores/index.js';
import type { Mac } from '../domain/mac.js';
import { notFound } from '../errors.js';
import { DeferToPrimary } from './defer.js';
import { challenges, checkNonce, expectedDigest, makeNonce, parseAuthorization, safeEqual, uriNames } from '../http/digest-server.js';
import type { Actor, AuditSink } from './audit.js';
import type { ChangeTracker } from './change-tracker.js';
import type { Clock } from './clock.js';

export type { DownloadAuthMode };

export interface DownloadAuthOptions {
  defaultMode: DownloadAuthMode;
  realm: string;
  nonceLifetimeMs: number;
  allowBasic: boolean;
  /** A device added less than this long ago may fetch once without credentials (0: never). */
  newDeviceGraceMs: number;
  /** A phone worker's: a device's first credentials are made by the primary (DeferToPrimary). */
  replica?: boolean;
}

/** The subset of a phone request that authentication looks at. */
export interface AuthRequest {
  method: string;
  name: string;
  authorization?: string | null | undefined;
}

/** `missing`: no Authorization (a phone's first try); `stale`: right credentials, expired nonce. */
export type Verdict = 'ok' | 'missing' | 'stale' | 'bad';

/**
 * Earlier passwords kept at most: rotations in a row while the phone is not known to have fetched
 * (each one it may or may not have). Beyond that the oldest goes.
 */
const MAX_PREVIOUS = 4;

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
/** Letters and digits only: safe in every vendor's key=value and XML files and in URLs. */
function randomText(length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ALPHABET[randomInt(ALPHABET.length)]!;
  return s;
}

export class DownloadAuthService {
  private secretKey: Buffer | null = null;

  constructor(
    private readonly s: Pick<Stores, 'devices' | 'tx'> & { downloadAuth: DownloadAuthStore },
    private readonly changes: ChangeTracker,
    private readonly audit: AuditSink,
    private readonly clock: Clock,
    readonly opts: DownloadAuthOptions,
  ) {}

  /** Moves whenever a download-auth row changes (DownloadAuthStore.epoch). */
  get epoch(): number {
    return this.s.downloadAuth.epoch;
  }

  record(mac: string): DownloadAuthRecord | null {
    return this.s.downloadAuth.get(mac);
  }

  effectiveMode(rec: DownloadAuthRecord | null): DownloadAuthMode {
    return rec?.mode ?? this.opts.defaultMode;
  }

  /** Whether the phone has fetched a config carrying its current credentials. */
  isReady(device: DeviceHead, rec: DownloadAuthRecord | null): boolean {
    return rec !== null && (device.fetchedVersion ?? 0) >= rec.credsVersion;
  }

  /**
   * Whether `enforce` is relaxed for this device right now: an enrolment window opened by an
   * admin, or a device added moments ago that has not fetched its credentials yet.
   */
  isOpen(device: DeviceHead, rec: DownloadAuthRecord | null): boolean {
    const now = this.clock.now();
    if (rec?.openUntil != null && rec.openUntil > now) return true;
    return this.opts.newDeviceGraceMs > 0 && device.createdAt + this.opts.newDeviceGraceMs > now && !this.isReady(device, rec);
  }

  /** The CredentialSource for device views: the credentials to write into the config, or null when off. */
  credentialsFor(device: DeviceRow): { username: string; password: string } | null {
    let rec = this.record(device.mac);
    if (this.effectiveMode(rec) === 'off') return null;
    if (!rec) {
      // First config with credentials for this device (a view of a device not stored gets none).
      if (!this.s.devices.get(device.mac)) return null;
      if (this.opts.replica) throw new DeferToPrimary('first download credentials');
      rec = this.s.downloadAuth.ensure(device.mac, this.fresh(null, device.configVersion), this.clock.now());
    }
    return { username: rec.username, password: rec.password };
  }

  verify(req: AuthRequest, device: DeviceHead, rec: DownloadAuthRecord): Verdict {
    if (!req.authorization) return 'missing';
    const a = parseAuthorization(req.authorization);
    if (a === null || a.username !== rec.username) return 'bad';
    // After a rotation the earlier ones keep working until the phone has fetched the new one.
    const passwords = (device.fetchedVersion ?? 0) < rec.credsVersion ? [rec.password, ...rec.prevPasswords] : [rec.password];
    if (a.scheme === 'basic') {
      if (!this.opts.allowBasic) return 'bad';
      return passwords.some((p) => safeEqual(p, a.password)) ? 'ok' : 'bad';
    }
    if (a.realm !== this.opts.realm || !uriNames(a.uri, req.name)) return 'bad';
    const nonce = checkNonce(this.secret(), this.opts.realm, a.nonce, this.clock.now(), this.opts.nonceLifetimeMs);
    if (nonce === 'invalid') return 'bad';
    if (!passwords.some((p) => safeEqual(expectedDigest(a, p, req.method), a.response))) return 'bad';
    return nonce === 'stale' ? 'stale' : 'ok';
  }

  /** `WWW-Authenticate` values for a 401 (Digest MD5, Digest SHA-256, Basic). */
  challenge(stale: boolean): string[] {
    return challenges(this.opts.realm, makeNonce(this.secret(), this.opts.realm, this.clock.now()), { stale, basic: this.opts.allowBasic });
  }

  // ---- admin ----

  describe(mac: Mac) {
    const device = this.device(mac);
    return this.present(device, this.record(mac));
  }

  /** `mode` null: follow the site default. Bumps the device so it fetches (or drops) its credentials. */
  setMode(mac: Mac, mode: DownloadAuthMode | null, actor: Actor) {
    return this.s.tx(() => {
      const device = this.device(mac);
      const before = this.record(mac);
      // Coming from off (or with no credentials yet) the phone holds none: the next config brings them.
      const wasOff = before === null || this.effectiveMode(before) === 'off';
      const rec = before ?? this.s.downloadAuth.ensure(mac, this.fresh(mode, device.configVersion), this.clock.now());
      this.changes.changed([mac], `download auth ${mode ?? 'default'}`);
      const version = this.s.devices.configVersion(mac) ?? device.configVersion;
      const now = this.clock.now();
      this.s.downloadAuth.save({ ...rec, mode, credsVersion: wasOff ? version : rec.credsVersion, prevPasswords: wasOff ? [] : rec.prevPasswords }, now);
      const after = this.describe(mac);
      this.audit.record({ actor, action: 'device.download-auth', target: `device:${mac}`, before: before ? this.present(device, before) : null, after });
      return after;
    });
  }

  /**
   * New password; the old ones stay valid until the phone has fetched the config with the new
   * one. A phone not known to have fetched the current password may hold it all the same (its
   * fetch record lost in a crash) or an earlier one, so all of those stay, up to MAX_PREVIOUS.
   */
  rotate(mac: Mac, actor: Actor) {
    return this.s.tx(() => {
      const device = this.device(mac);
      const rec = this.record(mac) ?? this.s.downloadAuth.ensure(mac, this.fresh(null, device.configVersion), this.clock.now());
      const phoneHasCurrent = (device.fetchedVersion ?? 0) >= rec.credsVersion;
      this.changes.changed([mac], 'download credentials rotated');
      const version = this.s.devices.configVersion(mac) ?? device.configVersion;
      const prevPasswords = phoneHasCurrent ? [rec.password] : [rec.password, ...rec.prevPasswords].slice(0, MAX_PREVIOUS);
      this.s.downloadAuth.save({ ...rec, password: randomText(24), prevPasswords, credsVersion: version }, this.clock.now());
      const after = this.describe(mac);
      this.audit.record({ actor, action: 'device.download-auth.rotate', target: `device:${mac}`, after });
      return after;
    });
  }

  setAllowlist(mac: Mac, cidrs: string[] | null, actor: Actor) {
    return this.s.tx(() => {
      const device = this.device(mac);
      const rec = this.record(mac) ?? this.s.downloadAuth.ensure(mac, this.fresh(null, device.configVersion), this.clock.now());
      const before = this.present(device, rec);
      this.s.downloadAuth.save({ ...rec, allowlist: cidrs && cidrs.length > 0 ? JSON.stringify(cidrs) : null }, this.clock.now());
      const after = this.describe(mac);
      this.audit.record({ actor, action: 'device.allowlist', target: `device:${mac}`, before, after });
      return after;
    });
  }

  /** Opens an enrolment window: a replaced or factory-reset phone may fetch without credentials until then. */
  openEnrolment(mac: Mac, forMs: number, actor: Actor) {
    return this.s.tx(() => {
      const device = this.device(mac);
      const rec = this.record(mac) ?? this.s.downloadAuth.ensure(mac, this.fresh(null, device.configVersion), this.clock.now());
      const until = forMs > 0 ? this.clock.now() + forMs : null;
      this.s.downloadAuth.save({ ...rec, openUntil: until }, this.clock.now());
      const after = this.describe(mac);
      this.audit.record({ actor, action: 'device.download-auth.enrol', target: `device:${mac}`, after });
      return after;
    });
  }

  /** Rollout report: how many phones are in each mode and which have not fetched their credentials yet. */
  readiness(limit = 1000) {
    const counts = { off: 0, provision: 0, enforce: 0 };
    const notReady: Mac[] = [];
    let notReadyTotal = 0;
    for (const r of this.s.downloadAuth.readinessAll()) {
      const mode = r.mode ?? this.opts.defaultMode;
      counts[mode]++;
      if (mode !== 'off' && (r.credsVersion === null || (r.fetchedVersion ?? 0) < r.credsVersion)) {
        notReadyTotal++;
        if (notReady.length < limit) notReady.push(r.mac);
      }
    }
    return { defaultMode: this.opts.defaultMode, realm: this.opts.realm, counts, notReadyTotal, notReady };
  }

  private present(device: DeviceRecord, rec: DownloadAuthRecord | null) {
    const mode = this.effectiveMode(rec);
    const ready = mode !== 'off' && this.isReady(device, rec);
    return {
      mode: rec?.mode ?? 'default',
      effectiveMode: mode,
      username: mode === 'off' ? null : (rec?.username ?? null),
      /** The phone has fetched a config carrying its current credentials. */
      ready,
      previousPasswordAccepted: (rec?.prevPasswords.length ?? 0) > 0 && !ready,
      allowlist: rec?.allowlist ? (JSON.parse(rec.allowlist) as string[]) : [],
      enrolmentOpenUntil: rec?.openUntil != null && rec.openUntil > this.clock.now() ? new Date(rec.openUntil).toISOString() : null,
      warnings: mode === 'enforce' && !ready && !this.isOpen(device, rec) ? ['the phone has not fetched its download credentials yet: it is refused until it does (use provision first, or open an enrolment window)'] : [],
    };
  }

  private device(mac: Mac): DeviceRecord {
    const d = this.s.devices.get(mac);
    if (!d) throw notFound(`device ${mac}`);
    return d;
  }

  private fresh(mode: DownloadAuthMode | null, credsVersion: number) {
    return { mode, username: `dp${randomText(10)}`, password: randomText(24), credsVersion };
  }

  private secret(): Buffer {
    this.secretKey ??= Buffer.from(this.s.downloadAuth.secret('security.nonceSecret', () => randomBytes(32).toString('hex')), 'hex');
    return this.secretKey;
  }
}
