/**
 * What a phone sees: maps one request for a file at the root path to an answer.
 * Transport-free (the HTTP layer adapts node's req/res), so it is tested without sockets.
 */
import type { DeviceStore, DeviceHead, FetchRecord } from '../../db/stores/devices.js';
import type { DeviceFileStore } from '../../db/stores/device-files.js';
import { matchFile, vendorForOui, getVendor } from '../../vendors/registry.js';
import type { FileMatch, UserAgentInfo } from '../../vendors/vendor.js';
import type { Config } from '../config.js';
import { reservedMacReason, type Mac } from '../domain/mac.js';
import type { Clock } from './clock.js';
import type { EnumerationGuard, FailureKind } from './enumeration-guard.js';
import type { FetchRecorder } from './fetch-recorder.js';
import type { FetchFold } from './fetch-folds.js';
import type { Renderer, RenderedFile } from './renderer.js';
import type { PhoneAccess } from './phone-access.js';
import { UserAgentCache } from './user-agent-cache.js';
import { AnswerMemo } from './answer-memo.js';
import { DeferToPrimary } from './defer.js';

export interface PhoneRequest {
  method: string;
  /** The file name requested at the root path, already checked to be a plain name. */
  name: string;
  ip: string;
  userAgent: string | null;
  ifNoneMatch: string | null;
  body?: Buffer;
  /** Raw `Authorization` header (download auth); checked only for devices in enforce mode. */
  authorization?: string | null;
  /** Set for requests over the TLS listener: whether the client certificate verified, and the MAC it names. */
  tls?: { verified: boolean; clientCertMac: Mac | null } | null;
}

export interface PhoneResponse {
  status: number;
  /** Arrays become repeated header lines (several WWW-Authenticate challenges). */
  headers: Record<string, string | string[]>;
  body: Buffer | string;
  /** For metrics: vendor and file kind when known. */
  vendor: string | null;
  kind: string | null;
  /** The rendered file behind a 200/304, for the fetch record. */
  rendered?: Pick<RenderedFile, 'configVersion' | 'lineUser' | 'extension'>;
  /** Where the phone lane keeps its text of status and headers: a rendered file's, for its 200 (LaneAnswer.headSlot). */
  headSlot?: { text?: string } | undefined;
}

export interface SecurityLog {
  warn(obj: Record<string, unknown>, msg: string): void;
}

const NO_STORE = 'no-store';
/**
 * Phone files are data, never pages. A browser that opens one on deskprov's origin (the admin
 * console's) must not sniff it into HTML or run a script in it: uploads are whatever bytes a
 * client PUT, and configs carry user-entered text.
 */
const NOSNIFF = 'nosniff';
const FILE_CSP = "default-src 'none'; sandbox";
const text = (status: number, body: string, extra: Record<string, string> = {}): PhoneResponse => ({
  status,
  headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': NO_STORE, ...extra },
  body: `${body}\n`,
  vendor: null,
  kind: null,
});

export interface ProvisioningDeps {
  config: Config;
  devices: DeviceStore;
  files: DeviceFileStore;
  renderer: Renderer;
  /** Where fetches are recorded; `repeat` (FetchRecorder's) counts an answer given again without a lookup. */
  recorder: { record(r: FetchRecord): FetchFold | null | void; repeat?: FetchRecorder['repeat'] };
  guard: Pick<EnumerationGuard, 'blockedFor' | 'fail'>;
  clock: Clock;
  log: SecurityLog;
  /** Allowlists, client certificates and download auth (server/services/phone-access.ts). */
  access?: PhoneAccess;
  /**
   * A phone worker (server/cluster/): it writes nothing. It renders a file not rendered yet and
   * hands the render to the primary to store (server/cluster/worker.ts); whatever would write
   * (an unknown MAC with autoRegister, a device's first download credentials) throws
   * DeferToPrimary instead, and the request is passed to the primary process. (Uploads never get
   * here: the worker's phone handler passes every PUT on before reading it.)
   */
  replica?: boolean;
}

export { DeferToPrimary };

/** A device file's answer as kept for an identical request (AnswerMemo), with what its fetch record needs. */
interface KeptAnswer {
  /** Given to every identical request as it is: nothing changes it once kept. */
  res: PhoneResponse;
  device: DeviceHead;
  ua: Readonly<UserAgentInfo> | null;
  /** The fold that counted the last fetch given this answer: the next one is counted on it if still open. */
  fold: FetchFold | null;
}

export class ProvisioningService {
  private readonly agents = new UserAgentCache();
  /** Device files' answers, given again to identical requests while nothing changed (answer-memo.ts). */
  private readonly answers: AnswerMemo<KeptAnswer>;

  constructor(private readonly d: ProvisioningDeps) {
    const { devices, renderer, access } = d;
    this.answers = new AnswerMemo(access ? () => devices.epoch + renderer.epoch + access.epoch : () => devices.epoch + renderer.epoch);
  }

  handle(req: PhoneRequest): PhoneResponse {
    const blocked = this.d.guard.blockedFor(req.ip);
    if (blocked > 0) return text(429, 'Too Many Requests', { 'Retry-After': String(Math.ceil(blocked / 1000)) });
    const refused = this.d.access?.admit(req);
    if (refused) return { ...refused, vendor: null, kind: null };

    // Over TLS (a client certificate may decide) or with a body (an upload): never a kept answer.
    const plain = !req.tls && !req.body;
    const kept = plain ? this.answers.get(req) : undefined;
    if (kept !== undefined) {
      this.d.renderer.countHit();
      // The same request and answer as the fetch its fold counted: one more on it, or a record.
      if (kept.fold === null || !this.d.recorder.repeat?.(kept.fold, this.d.clock.now())) kept.fold = this.record(req, kept.device, kept.ua, kept.res);
      return kept.res;
    }

    const matches = matchFile(req.name);
    if (matches.length === 0) return text(404, 'Not Found');
    const ua = req.userAgent ? this.agents.parse(req.userAgent) : null;
    const mac = matches[0]!.mac;

    if (mac && ua?.mac && ua.mac !== mac) {
      this.fail(req, 'mac-mismatch', { pathMac: mac, uaMac: ua.mac });
      return text(403, 'Forbidden');
    }

    // The lean row only: the full record is read when a file has to be rendered.
    let device: DeviceHead | null = null;
    let match: FileMatch | undefined;
    if (mac) {
      device = this.d.devices.head(mac);
      // A reserved MAC (broadcast, multicast) is never a phone's, so never registered.
      if (!device && this.d.config.provisioning.autoRegister && reservedMacReason(mac) === null) {
        if (this.d.replica) throw new DeferToPrimary('auto-register');
        device = this.autoRegister(mac, matches, ua);
      }
      if (!device) {
        this.fail(req, 'unknown-mac', { mac });
        return text(404, 'Not Found');
      }
      match = matches.find((m) => m.vendor === device!.vendor);
    } else {
      match = matches.find((m) => m.vendor === ua?.vendor) ?? matches[0];
    }
    if (!match) return text(404, 'Not Found');
    if (device && this.d.access) {
      const denied = this.d.access.authorize(req, device);
      // Not recorded as a fetch: an unauthenticated request must not move the device's last-fetch IP.
      if (denied) return { ...denied, vendor: match.vendor, kind: match.kind };
    }

    const res = this.serve(req, match, device);
    res.vendor = match.vendor;
    res.kind = match.kind;
    if (device) {
      const fold = this.record(req, device, ua, res);
      // Kept once it is a repeat (its fold counted it on an earlier fetch's row), or always when
      // every fetch gets a row: a boot storm's first fetches are never asked again soon, and keeping
      // each (objects that then outlive the young generation) cost a first fetch about 6 us
      // (hot-path.ts, fresh process, stored render: 102-111 us without keeping, 112-118 with).
      if (plain && (fold === null || fold.repeated) && this.keeps(res, device)) this.answers.keep(req, { res, device, ua, fold });
    }
    return res;
  }

  /**
   * Whether an identical request may get `res` again while nothing changes: a device file served
   * from its render (200, or 304), and not one download auth may refuse later.
   */
  private keeps(res: PhoneResponse, device: DeviceHead): boolean {
    return (
      res.kind === 'device' &&
      (res.status === 200 || res.status === 304) &&
      res.rendered?.configVersion != null &&
      !this.d.access?.changesWithTime(device)
    );
  }

  private serve(req: PhoneRequest, match: FileMatch, device: DeviceHead | null): PhoneResponse {
    const isRead = req.method === 'GET' || req.method === 'HEAD';
    switch (match.kind) {
      case 'device':
      case 'common': {
        if (!isRead) return text(405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
        const file =
          match.kind === 'device' && device
            ? this.d.renderer.deviceFile(device, match.template ?? 'device', () => this.d.renderer.source(device.mac))
            : this.d.renderer.commonFile(match.vendor, match.template ?? 'common', match.family);
        if (!file) return text(404, 'Not Found');
        return this.fileResponse(req, file);
      }
      case 'upload':
      case 'log': {
        if (!device || !match.slot) return text(404, 'Not Found');
        if (req.method === 'PUT') {
          const body = req.body ?? Buffer.alloc(0);
          const now = this.d.clock.now();
          if (match.kind === 'log') this.d.files.append(device.mac, match.slot, body, this.d.config.http.maxLogBytesPerDevice, now);
          else this.d.files.put(device.mac, match.slot, body, now);
          return text(201, 'Stored');
        }
        if (!isRead || match.kind === 'log') {
          return isRead ? text(404, 'Not Found') : text(405, 'Method Not Allowed', { Allow: 'GET, HEAD, PUT' });
        }
        const stored = this.d.files.get(device.mac, match.slot);
        if (!stored) return text(404, 'Not Found');
        const res = this.fileResponse(req, {
          body: stored.content,
          etag: `"u${stored.updatedAt.toString(36)}-${stored.content.length.toString(36)}"`,
          contentType: match.slot.endsWith('.xml') || match.slot.endsWith('.cfg') ? 'text/xml; charset=utf-8' : 'application/octet-stream',
        });
        // A browser saves an upload instead of showing it.
        res.headers['Content-Disposition'] = 'attachment';
        return res;
      }
    }
  }

  /**
   * A 200, or a 304 when the phone already has it. A rendered file's 200 carries the slot where
   * the phone lane keeps its text of the status and headers (the same for every answer with it).
   */
  private fileResponse(req: PhoneRequest, file: (RenderedFile & { laneHead?: { text?: string } }) | StoredFile): PhoneResponse {
    const isRendered = 'configVersion' in file;
    const rendered = isRendered ? file : NOT_RENDERED;
    const headers: Record<string, string> = {
      'Content-Type': file.contentType,
      'Cache-Control': NO_STORE,
      ETag: file.etag,
      'X-Content-Type-Options': NOSNIFF,
      'Content-Security-Policy': FILE_CSP,
    };
    if (req.ifNoneMatch !== null && etagMatches(req.ifNoneMatch, file.etag)) {
      return { status: 304, headers, body: '', vendor: null, kind: null, rendered };
    }
    headers['Content-Length'] = String(file.body.length);
    const headSlot = isRendered ? (file.laneHead ??= {}) : undefined;
    return { status: 200, headers, body: file.body, vendor: null, kind: null, rendered, headSlot };
  }

  private record(req: PhoneRequest, device: DeviceHead, ua: Readonly<UserAgentInfo> | null, res: PhoneResponse): FetchFold | null {
    const rendered = res.rendered;
    const isConfig = res.kind === 'device' && (res.status === 200 || res.status === 304) && rendered?.configVersion != null;
    return this.d.recorder.record({
      mac: device.mac,
      at: this.d.clock.now(),
      ip: req.ip,
      userAgent: req.userAgent,
      model: ua?.model ?? null,
      firmware: ua?.firmware ?? null,
      file: req.name,
      status: res.status,
      configVersion: isConfig ? rendered!.configVersion : null,
      lineUser: isConfig ? rendered!.lineUser : null,
      extension: isConfig ? rendered!.extension : null,
    }) ?? null;
  }

  private autoRegister(mac: Mac, matches: FileMatch[], ua: Readonly<UserAgentInfo> | null): DeviceHead | null {
    const candidates = new Set(matches.filter((m) => m.kind === 'device').map((m) => m.vendor));
    const vendor =
      (ua && candidates.has(ua.vendor) ? ua.vendor : null) ??
      (() => {
        const v = vendorForOui(mac);
        return v && candidates.has(v.id) ? v.id : null;
      })() ??
      (candidates.size === 1 ? [...candidates][0]! : null);
    if (!vendor || !getVendor(vendor)) return null;
    const now = this.d.clock.now();
    this.d.devices.insert(
      { mac, vendor, model: ua?.model ?? null, label: null, ownerExtension: null, hotdeskEnabled: true, locationId: null, sipContact: null, sessionTimeout: null },
      now,
    );
    this.d.log.warn({ event: 'auto-register', mac, vendor }, 'unknown phone registered as unassigned');
    return this.d.devices.head(mac);
  }

  private fail(req: PhoneRequest, kind: FailureKind, extra: Record<string, unknown>): void {
    this.d.guard.fail(req.ip, kind);
    this.d.log.warn({ event: 'security', kind, ip: req.ip, file: req.name, userAgent: req.userAgent, ...extra }, `phone request refused: ${kind}`);
  }
}

/** A file served as stored (an upload): no config version or line. */
type StoredFile = Pick<RenderedFile, 'body' | 'etag' | 'contentType'>;
const NOT_RENDERED = Object.freeze({ configVersion: null, lineUser: null, extension: null });

function etagMatches(header: string, etag: string): boolean {
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}
