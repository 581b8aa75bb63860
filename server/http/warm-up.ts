/**
 * The phone path run before a process takes phones (config `http.warmUp`).
 *
 * A freshly started process runs its code in V8's interpreter until each function has been called
 * often enough to be compiled, and compiles it on other threads meanwhile. After a power cut the
 * server comes back with the phones, so its first thousands of first fetches met cold code: with
 * wrk (64 connections, each config once) a freshly started deskprov did 4,300-5,200 first
 * fetches/s and one that had been serving for a while 5,100-7,200/s, and V8's compiler threads
 * took about a quarter of the machine during the fresh run.
 *
 * So each phone-serving process first answers requests of its own, over real loopback
 * connections through a phone lane of its own: the files of a few devices of each vendor, with
 * and without the device in memory, 200s and 304s. It answers them with a ProvisioningService of
 * its own that records no fetch, counts no failure, logs nothing and feeds no metric. Then every
 * device row, download credential and render it read is dropped again, so the first real fetch of
 * a device still finds nothing of it in memory.
 *
 * Those requests find their files stored after the first round, so they warm the stored-render
 * path but render only a few dozen times. So the process first answers `renders` requests more
 * with a renderer that keeps nothing (Renderer.keepingNothing), each of them rendered: a device's
 * first fetch with no stored render (provisioning.prerender off, or a device added or changed
 * since) then also meets compiled code.
 */
import { createServer } from 'node:http';
import net from 'node:net';
import type { DeviceRecord } from '../../db/stores/devices.js';
import { getVendor, vendorIds } from '../../vendors/registry.js';
import type { Context } from '../context.js';
import type { Mac } from '../domain/mac.js';
import type { Logger } from '../log.js';
import type { DownloadAuthService } from '../services/download-auth.js';
import { PhoneAccess } from '../services/phone-access.js';
import { ProvisioningService, type ProvisioningDeps } from '../services/provisioning.js';
import type { Renderer } from '../services/renderer.js';
import { createPhoneHandler } from './phone-handler.js';
import { PhoneLane } from './phone-lane.js';
import { HTTP_TIMEOUTS } from './timeouts.js';

export interface WarmUpOptions {
  /** Requests answered by the process's own renderer (stored renders, cached, 304s). */
  requests?: number;
  /** Requests answered by rendering, before those. */
  renders?: number;
  /** Connections they are spread over. */
  connections?: number;
  /** Devices of each vendor whose files are asked for. */
  devicesPerVendor?: number;
  /** A phone worker's check before each turn of answers (PhoneLaneOptions.beforeAnswers). */
  beforeAnswers?: () => void;
}

export interface WarmUpResult {
  /** Requests answered, both phases. */
  requests: number;
  /** Files rendered by the rendering phase. */
  rendered: number;
  /** Answers by status (200s and 304s when the devices' files are served). */
  statuses: Record<string, number>;
  ms: number;
}

export type WarmUpDeps = Pick<ProvisioningDeps, 'config' | 'devices' | 'files' | 'renderer' | 'clock' | 'replica'> & {
  downloadAuth: DownloadAuthService;
};

const quiet = { warn() {} };

/** What warmUp needs, from a process's context. */
export function warmUpDeps(ctx: Pick<Context, 'config' | 'stores' | 'renderer' | 'clock' | 'downloadAuth'>): WarmUpDeps {
  return { config: ctx.config, devices: ctx.stores.devices, files: ctx.stores.files, renderer: ctx.renderer, clock: ctx.clock, downloadAuth: ctx.downloadAuth };
}

export async function warmUp(d: WarmUpDeps, o: WarmUpOptions = {}): Promise<WarmUpResult> {
  const started = performance.now();
  const devices: DeviceRecord[] = [];
  for (const vendor of vendorIds) devices.push(...d.devices.list({ vendor }, o.devicesPerVendor ?? 16));
  const files = devices.flatMap((device) => (getVendor(device.vendor)?.deviceFiles(device.mac as Mac) ?? []).map((name) => ({ name, ua: device.lastFetch?.userAgent ?? null })));
  if (files.length === 0) return { requests: 0, rendered: 0, statuses: {}, ms: 0 };

  const serviceWith = (renderer: Renderer) =>
    new ProvisioningService({
      ...d,
      renderer,
      recorder: { record() {} },
      guard: { blockedFor: () => 0, fail() {} },
      log: quiet,
      access: new PhoneAccess(d.downloadAuth, { fail() {} }, quiet, { allowlist: [], requireClientCert: false }),
    });
  // No onResponse: nothing reaches the metrics. Whatever the lane does not answer gets a 404.
  const handlerOf = (service: ProvisioningService) => createPhoneHandler(service, { maxUploadBytes: 0, trustProxy: false, uploads: false, isDeferral: () => true });
  const own = handlerOf(serviceWith(d.renderer));
  const rendering = d.renderer.keepingNothing();
  let phone = own;
  const lane = new PhoneLane({
    answer: (req) => phone.answer(req),
    keepAliveTimeoutMs: HTTP_TIMEOUTS.keepAliveTimeout,
    headersTimeoutMs: HTTP_TIMEOUTS.headersTimeout,
    draining: () => false,
    ...(o.beforeAnswers ? { beforeAnswers: o.beforeAnswers } : {}),
  });
  const server = lane.attach(createServer(HTTP_TIMEOUTS, (_req, res) => res.writeHead(404, { 'Content-Length': '0' }).end()));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;

  const forget = () => devices.forEach((device) => d.devices.forget(device.mac));
  const stats = { ...d.renderer.stats };
  const etags = new Map<string, string>();
  const statuses: Record<string, number> = {};
  const answered = (name: string, status: string, etag: string | null) => {
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (etag) etags.set(name, etag);
  };
  let sent = 0;
  /** Sends `count` requests over the connections, each after the last answer; `request(n)` is the nth. */
  const phase = async (count: number, request: (n: number) => string) => {
    let n = 0;
    const next = () => (n < count ? (sent++, request(n++)) : null);
    await Promise.all(Array.from({ length: o.connections ?? 8 }, () => client(port, next, answered)));
  };
  const get = (f: (typeof files)[number], etag?: string) =>
    `GET /${f.name} HTTP/1.1\r\nHost: deskprov\r\n${f.ua ? `User-Agent: ${f.ua}\r\n` : ''}${etag ? `If-None-Match: ${etag}\r\n` : ''}\r\n`;
  try {
    // Every file in turn, each request rendered afresh.
    phone = handlerOf(serviceWith(rendering));
    await phase(o.renders ?? 2000, (n) => get(files[n % files.length]!));
    phone = own;
    forget();
    // Every file in turn, pass after pass. Even passes start from nothing in memory (a first
    // fetch); every fourth pass sends the ETags the cached pass before got (304s).
    await phase(o.requests ?? 4000, (n) => {
      const pass = Math.floor(n / files.length);
      if (n % files.length === 0 && pass % 2 === 0) forget();
      const f = files[n % files.length]!;
      return get(f, pass % 4 === 3 ? etags.get(f.name) : undefined);
    });
  } finally {
    server.closeAllConnections();
    server.close();
    forget();
    Object.assign(d.renderer.stats, stats);
  }
  return { requests: sent, rendered: rendering.stats.misses, statuses, ms: Math.round(performance.now() - started) };
}

/** One keep-alive connection sending `next()` until it says null, each after the last answer. */
function client(port: number, next: () => string | null, onAnswer: (name: string, status: string, etag: string | null) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let buffered: Buffer = Buffer.alloc(0);
    let current = '';
    const send = () => {
      const req = next();
      if (req === null) {
        socket.end();
        return resolve();
      }
      current = req.slice(5, req.indexOf(' ', 5));
      socket.write(req);
    };
    socket.on('connect', send);
    socket.on('error', reject);
    socket.on('close', () => resolve());
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      const headEnd = buffered.indexOf('\r\n\r\n');
      if (headEnd === -1) return;
      const head = buffered.subarray(0, headEnd).toString('latin1');
      const length = /\r\nContent-Length: (\d+)/i.exec(head);
      const status = head.slice(9, 12);
      const total = headEnd + 4 + (status === '304' || !length ? 0 : Number(length[1]));
      if (buffered.length < total) return;
      onAnswer(current, status, /\r\nETag: ("[^"\r\n]*")/i.exec(head)?.[1] ?? null);
      buffered = buffered.subarray(total);
      send();
    });
  });
}

/** warmUp, logged. A failure is logged and start-up goes on: the process only starts cold. */
export async function warmUpLogged(d: WarmUpDeps, log: Pick<Logger, 'info' | 'warn'>, o: WarmUpOptions = {}): Promise<void> {
  try {
    const r = await warmUp(d, o);
    if (r.requests > 0) log.info(r, 'phone path warmed up');
  } catch (err) {
    log.warn({ err }, 'could not warm up the phone path (it starts cold)');
  }
}
