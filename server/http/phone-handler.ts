/**
 * The phone hot path: a lean node:http handler that answers file requests at the root path
 * before Express sees them. Anything that is not a phone file goes on to the admin app.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProvisioningService, PhoneResponse } from '../services/provisioning.js';
import { tlsInfo } from './client-cert.js';

/** Root paths that are not phone files. */
const RESERVED = new Set(['healthz', 'metrics', 'favicon.ico', 'robots.txt', 'admin', 'api', 'phone']);
const MAX_PATH = 128;
/** A plain file name: what every vendor's phone asks for. */
const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface PhoneHandlerOptions {
  maxUploadBytes: number;
  trustProxy: boolean;
  /** Observed by metrics and logs after each answer. */
  onResponse?: (req: IncomingMessage, res: PhoneResponse, seconds: number) => void;
  /** An unexpected error while answering (the phone gets a bare 500, never the error). */
  onError?: (err: unknown, req: IncomingMessage) => void;
  /**
   * Phone workers: an error for which this returns true means "not here": the handler returns
   * false without answering and the caller passes the request on. Uploads (PUT) are passed on
   * whole when `uploads` is false.
   */
  isDeferral?: (err: unknown) => boolean;
  uploads?: boolean;
}

/**
 * The client's address. With trustProxy, the last X-Forwarded-For entry: the one deskprov's own
 * reverse proxy appended. Entries before it are whatever the client sent, so trusting the first
 * would let anyone pick an address that passes allowlists and dodges every per-address limit.
 */
export function clientIp(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const fwd = req.headers['x-forwarded-for'];
    const list = Array.isArray(fwd) ? fwd.join(',') : fwd;
    const last = list?.slice(list.lastIndexOf(',') + 1).trim();
    if (last) return last.startsWith('::ffff:') ? last.slice(7) : last;
  }
  const ip = req.socket.remoteAddress ?? '';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

/** Returns false when the request is not for a phone file (the caller passes it on). */
export function createPhoneHandler(service: ProvisioningService, opts: PhoneHandlerOptions) {
  return function handlePhone(req: IncomingMessage, res: ServerResponse): boolean {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD' && (method !== 'PUT' || opts.uploads === false)) return false;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (path.length < 2 || path.charCodeAt(0) !== 47 /* / */) return false;
    const name = path.slice(1);
    const slash = name.indexOf('/');
    const first = slash === -1 ? name : name.slice(0, slash);
    if (RESERVED.has(first)) return false;
    const started = process.hrtime.bigint();

    // Anything that is not a plain name is refused here and never reaches a file lookup:
    // encoded separators, traversal, NUL, nested paths, over-long names.
    if (path.length > MAX_PATH) return reply(req, res, plain(414, 'URI Too Long'), started), true;
    if (slash !== -1 || name.includes('%') || name.includes('..') || !PLAIN_NAME.test(name)) {
      return reply(req, res, plain(400, 'Bad Request'), started), true;
    }

    const base = {
      method,
      name,
      ip: clientIp(req, opts.trustProxy),
      userAgent: header(req, 'user-agent'),
      ifNoneMatch: header(req, 'if-none-match'),
      authorization: header(req, 'authorization', 2048),
      tls: tlsInfo(req),
    };
    if (method !== 'PUT') {
      const r = answer(req, base);
      if (r === null) return false;
      reply(req, res, r, started);
      return true;
    }
    readBody(req, opts.maxUploadBytes).then(
      (body) => reply(req, res, body ? (answer(req, { ...base, body }) ?? plain(500, 'Internal Server Error')) : plain(413, 'Payload Too Large'), started),
      () => reply(req, res, plain(400, 'Bad Request'), started),
    );
    return true;
  };

  /**
   * The service's answer; an exception (database busy, a bug) becomes a bare 500 and is logged,
   * never shown. null: deferred (phone workers only; uploads are never handled there).
   */
  function answer(req: IncomingMessage, r: Parameters<ProvisioningService['handle']>[0]): PhoneResponse | null {
    try {
      return service.handle(r);
    } catch (err) {
      if (opts.isDeferral?.(err)) return null;
      opts.onError?.(err, req);
      return plain(500, 'Internal Server Error');
    }
  }

  function reply(req: IncomingMessage, res: ServerResponse, r: PhoneResponse, started: bigint): void {
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
    opts.onResponse?.(req, r, Number(process.hrtime.bigint() - started) / 1e9);
  }
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

function header(req: IncomingMessage, name: string, max = 1024): string | null {
  const v = req.headers[name];
  if (v === undefined) return null;
  const s = Array.isArray(v) ? v.join(', ') : v;
  return s.length > max ? s.slice(0, max) : s;
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
