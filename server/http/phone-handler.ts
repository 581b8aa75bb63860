/**
 * The phone hot path: file requests at the root path are answered before Express sees them,
 * from the phone lane (phone-lane.ts) for plain-HTTP GETs and HEADs, and from a lean node:http
 * handler for the rest (HTTPS, uploads, requests the lane hands over). Anything that is not a
 * phone file goes on to the admin app.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProvisioningService, PhoneResponse } from '../services/provisioning.js';
import { tlsInfo, tlsInfoOf } from './client-cert.js';
import type { LaneRequest } from './phone-lane.js';

/** Root paths that are not phone files. */
const RESERVED = new Set(['healthz', 'metrics', 'favicon.ico', 'robots.txt', 'admin', 'api', 'phone']);
const MAX_PATH = 128;
/** A plain file name: what every vendor's phone asks for. */
const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface PhoneHandlerOptions {
  maxUploadBytes: number;
  trustProxy: boolean;
  /** Observed by metrics and logs after each answer. */
  onResponse?: (call: PhoneCall, res: PhoneResponse, seconds: number) => void;
  /** An unexpected error while answering (the phone gets a bare 500, never the error). */
  onError?: (err: unknown, call: PhoneCall) => void;
  /**
   * Phone workers: an error for which this returns true means "not here": the handler returns
   * false without answering and the caller passes the request on. Uploads (PUT) are passed on
   * whole when `uploads` is false.
   */
  isDeferral?: (err: unknown) => boolean;
  uploads?: boolean;
}

/** A phone request as both ways in read it: node:http, and the phone lane (phone-lane.ts). */
export interface PhoneCall {
  method: string;
  url: string;
  /** The client's address (see clientAddress). */
  ip: string;
  userAgent: string | null;
  ifNoneMatch: string | null;
  authorization: string | null;
  tls: ReturnType<typeof tlsInfo>;
}

/**
 * The client's address. With trustProxy, the last X-Forwarded-For entry: the one deskprov's own
 * reverse proxy appended. Entries before it are whatever the client sent, so trusting the first
 * would let anyone pick an address that passes allowlists and dodges every per-address limit.
 */
function clientAddress(forwardedFor: string | undefined, remoteAddress: string | undefined, trustProxy: boolean): string {
  if (trustProxy && forwardedFor) {
    const last = forwardedFor.slice(forwardedFor.lastIndexOf(',') + 1).trim();
    if (last) return last.startsWith('::ffff:') ? last.slice(7) : last;
  }
  const ip = remoteAddress ?? '';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  const fwd = req.headers['x-forwarded-for'];
  return clientAddress(Array.isArray(fwd) ? fwd.join(',') : fwd, req.socket.remoteAddress, trustProxy);
}

/**
 * What the phone path makes of a method and URL: the file name asked for; an answer given
 * without looking anything up (a name that is not a plain file name); or null: not a phone file
 * request at all (the caller passes it on).
 */
function phoneTarget(method: string, url: string, uploads: boolean): string | PhoneResponse | null {
  if (method !== 'GET' && method !== 'HEAD' && (method !== 'PUT' || !uploads)) return null;
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (path.length < 2 || path.charCodeAt(0) !== 47 /* / */) return null;
  const name = path.slice(1);
  const slash = name.indexOf('/');
  if (RESERVED.has(slash === -1 ? name : name.slice(0, slash))) return null;
  // Anything that is not a plain name is refused here and never reaches a file lookup:
  // encoded separators, traversal, NUL, nested paths, over-long names.
  if (path.length > MAX_PATH) return plain(414, 'URI Too Long');
  if (slash !== -1 || name.includes('%') || name.includes('..') || !PLAIN_NAME.test(name)) return plain(400, 'Bad Request');
  return name;
}

/** Header values as the phone path takes them: several joined, and capped. */
function capped(v: string | string[] | undefined, max = 1024): string | null {
  if (v === undefined) return null;
  const s = Array.isArray(v) ? v.join(', ') : v;
  return s.length > max ? s.slice(0, max) : s;
}
const MAX_AUTHORIZATION = 2048;

export interface PhoneHandler {
  /** node:http: false when the request is not for a phone file (the caller passes it on). */
  (req: IncomingMessage, res: ServerResponse): boolean;
  /**
   * The phone lane (phone-lane.ts): the answer to a GET or HEAD, or null when this is not a phone
   * file request or cannot be answered here (a deferral); observed like node:http answers.
   */
  answer(req: LaneRequest): PhoneResponse | null;
}

export function createPhoneHandler(service: ProvisioningService, opts: PhoneHandlerOptions): PhoneHandler {
  const uploads = opts.uploads !== false;

  function handlePhone(req: IncomingMessage, res: ServerResponse): boolean {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const target = phoneTarget(method, url, uploads);
    if (target === null) return false;
    const started = process.hrtime.bigint();
    const call: PhoneCall = {
      method,
      url,
      ip: clientIp(req, opts.trustProxy),
      userAgent: capped(req.headers['user-agent']),
      ifNoneMatch: capped(req.headers['if-none-match']),
      authorization: capped(req.headers.authorization, MAX_AUTHORIZATION),
      tls: tlsInfo(req),
    };
    if (typeof target !== 'string') return reply(req, res, call, target, started), true;
    if (method !== 'PUT') {
      const r = answerFor(call, target);
      if (r === null) return false;
      reply(req, res, call, r, started);
      return true;
    }
    readBody(req, opts.maxUploadBytes).then(
      (body) => reply(req, res, call, body ? (answerFor(call, target, body) ?? plain(500, 'Internal Server Error')) : plain(413, 'Payload Too Large'), started),
      () => reply(req, res, call, plain(400, 'Bad Request'), started),
    );
    return true;
  }

  function answer(req: LaneRequest): PhoneResponse | null {
    const target = phoneTarget(req.method, req.url, false);
    if (target === null) return null;
    const started = process.hrtime.bigint();
    const call: PhoneCall = {
      method: req.method,
      url: req.url,
      ip: clientAddress(req.forwardedFor ?? undefined, req.socket.remoteAddress, opts.trustProxy),
      userAgent: capped(req.userAgent ?? undefined),
      ifNoneMatch: capped(req.ifNoneMatch ?? undefined),
      authorization: capped(req.authorization ?? undefined, MAX_AUTHORIZATION),
      tls: tlsInfoOf(req.socket),
    };
    const r = typeof target === 'string' ? answerFor(call, target) : target;
    if (r !== null) opts.onResponse?.(call, r, Number(process.hrtime.bigint() - started) / 1e9);
    return r;
  }

  /**
   * The service's answer; an exception (database busy, a bug) becomes a bare 500 and is logged,
   * never shown. null: deferred (phone workers only; uploads are never handled there).
   */
  function answerFor(call: PhoneCall, name: string, body?: Buffer): PhoneResponse | null {
    try {
      return service.handle({
        method: call.method,
        name,
        ip: call.ip,
        userAgent: call.userAgent,
        ifNoneMatch: call.ifNoneMatch,
        authorization: call.authorization,
        tls: call.tls,
        ...(body ? { body } : {}),
      });
    } catch (err) {
      if (opts.isDeferral?.(err)) return null;
      opts.onError?.(err, call);
      return plain(500, 'Internal Server Error');
    }
  }

  function reply(req: IncomingMessage, res: ServerResponse, call: PhoneCall, r: PhoneResponse, started: bigint): void {
    // An explicit length: no chunked framing (cheaper, and old phone firmware handles it best).
    // Headers go to writeHead in one object: setHeader() first would send node down its slower
    // merge path on every request.
    let headers = r.headers;
    if (r.status !== 304 && headers['Content-Length'] === undefined) {
      headers = { ...headers, 'Content-Length': String(typeof r.body === 'string' ? Buffer.byteLength(r.body) : r.body.length) };
    }
    if (r.status === 413) headers = { ...headers, Connection: 'close' };
    res.writeHead(r.status, headers);
    res.end(req.method === 'HEAD' || r.status === 304 ? undefined : r.body);
    opts.onResponse?.(call, r, Number(process.hrtime.bigint() - started) / 1e9);
  }

  return Object.assign(handlePhone, { answer });
}

function plain(status: number, text: string): PhoneResponse {
  return {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
    body: `${text}\n`,
    vendor: null,
    kind: null,
  };
}

/** The request body, or null when it exceeds `limit` (the rest is discarded, nothing is stored). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      resolve(null);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
