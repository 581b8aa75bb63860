/**
 * Who may fetch phone files: network allowlists (site and device), mutual-TLS client
 * certificates (the MAC in a verified certificate must be the MAC requested), and download
 * authentication for devices in `enforce` mode. Every refusal counts in the EnumerationGuard.
 */
import type { DeviceHead } from '../../db/stores/devices.js';
import type { Mac } from '../domain/mac.js';
import type { DownloadAuthService } from './download-auth.js';
import type { EnumerationGuard, FailureKind } from './enumeration-guard.js';
import { Allowlist, AllowlistCache } from './network-allowlist.js';

/** What the gate reads from a phone request (a subset of PhoneRequest). */
export interface AccessRequest {
  method: string;
  name: string;
  ip: string;
  userAgent: string | null;
  authorization?: string | null | undefined;
  /** Present for requests that came over the TLS listener. */
  tls?: { verified: boolean; clientCertMac: Mac | null } | null | undefined;
}

export interface Refusal {
  status: 401 | 403;
  headers: Record<string, string | string[]>;
  body: string;
}

export interface AccessLog {
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface PhoneAccessOptions {
  /** Site allowlist (config security.allowlist); empty allows every address. */
  allowlist: readonly string[];
  /** Phone files over TLS need a verified client certificate (config http.tls.requireClientCert). */
  requireClientCert: boolean;
}

const refuse = (status: 401 | 403, extra: Record<string, string | string[]> = {}): Refusal => ({
  status,
  headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...extra },
  body: status === 401 ? 'Unauthorized\n' : 'Forbidden\n',
});

export class PhoneAccess {
  private readonly site: Allowlist;
  private readonly deviceLists = new AllowlistCache();

  constructor(
    private readonly auth: DownloadAuthService,
    private readonly guard: Pick<EnumerationGuard, 'fail'>,
    private readonly log: AccessLog,
    private readonly opts: PhoneAccessOptions,
  ) {
    this.site = new Allowlist(opts.allowlist);
  }

  /** Checks that need no device: the site allowlist and a required client certificate. */
  admit(req: AccessRequest): Refusal | null {
    if (!this.site.empty && !this.site.allows(req.ip)) return this.deny(req, 'network', 403, { scope: 'site' });
    if (req.tls && this.opts.requireClientCert && !req.tls.verified) return this.deny(req, 'client-cert', 403, { reason: 'no verified client certificate' });
    return null;
  }

  /** Moves whenever what `authorize` reads about a device changes (its download-auth row). */
  get epoch(): number {
    return this.auth.epoch;
  }

  /**
   * Whether `authorize` may answer the same request about this device differently later with
   * nothing changed but the time: download auth enforced (an enrolment window or a new device's
   * grace period can end).
   */
  changesWithTime(device: DeviceHead): boolean {
    return this.auth.effectiveMode(this.auth.record(device.mac)) === 'enforce';
  }

  /** Checks for one device's files; null when the request may be served. */
  authorize(req: AccessRequest, device: DeviceHead): Refusal | null {
    const rec = this.auth.record(device.mac);
    if (rec?.allowlist && !this.deviceLists.get(rec.allowlist).allows(req.ip)) return this.deny(req, 'network', 403, { scope: 'device', mac: device.mac });

    const certMac = req.tls?.verified ? req.tls.clientCertMac : null;
    if (certMac !== null && certMac !== device.mac) return this.deny(req, 'mac-mismatch', 403, { mac: device.mac, certMac });

    if (this.auth.effectiveMode(rec) !== 'enforce') return null;
    // A verified device certificate naming this MAC is as good as the password.
    if (certMac === device.mac) return null;
    if (this.auth.isOpen(device, rec)) return null;
    const verdict = rec ? this.auth.verify(req, device, rec) : req.authorization ? 'bad' : 'missing';
    if (verdict === 'ok') return null;
    const challenge = { 'WWW-Authenticate': this.auth.challenge(verdict === 'stale') };
    if (verdict === 'bad') return this.deny(req, 'auth', 401, { mac: device.mac }, challenge);
    return refuse(401, challenge);
  }

  private deny(
    req: AccessRequest,
    kind: FailureKind,
    status: 401 | 403,
    extra: Record<string, unknown>,
    headers: Record<string, string | string[]> = {},
  ): Refusal {
    this.guard.fail(req.ip, kind);
    this.log.warn({ event: 'security', kind, ip: req.ip, file: req.name, userAgent: req.userAgent, ...extra }, `phone request refused: ${kind}`);
    return refuse(status, headers);
  }
}
