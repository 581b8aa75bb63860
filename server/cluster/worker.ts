/**
 * A phone worker: a second process answering phone file requests on the primary's listening
 * socket (config `http.phoneWorkers`), so a boot storm uses more than one core.
 *
 * It writes nothing. What it caches (device and download-auth rows, renders, templates) it checks
 * after every commit by another connection (ReplicaCache), and stored renders are served only
 * when their config_version and stamp are current. A file with no current render it renders and
 * sends the render to the primary, which stores it. Whatever needs a write (uploads,
 * auto-registration, a device's first download credentials), and every request that is not a
 * phone file (admin API, console, phone screens), is passed to the primary over its internal
 * socket. Fetch records, renders, request and render metrics and enumeration failures go to the
 * primary over IPC; the primary sends back the blocked IPs.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { openDatabase } from '../../db/index.js';
import type { FetchRecord } from '../../db/stores/devices.js';
import type { Config } from '../config.js';
import { createContext } from '../context.js';
import { Drain } from '../http/drain.js';
import { createPhoneHandler } from '../http/phone-handler.js';
import { warmUpDeps, warmUpLogged } from '../http/warm-up.js';
import { phoneLane, phoneServerFactory } from '../http/phone-lane.js';
import { createLogger } from '../log.js';
import { PhoneTally } from '../phone-tally.js';
import { systemClock } from '../services/clock.js';
import type { FailureKind } from '../services/enumeration-guard.js';
import type { FetchWriter } from '../services/fetch-writer.js';
import type { RenderWriteSink } from '../services/stored-renders.js';
import type { RenderWrite } from '../../db/stores/rendered-files.js';
import { PhoneAccess } from '../services/phone-access.js';
import { DeferToPrimary, ProvisioningService } from '../services/provisioning.js';
import { createProxy } from './proxy.js';
import { ReplicaCache } from './replica-cache.js';
import { toFetchRow, toRenderRow, type FromWorker, type ToWorker } from './protocol.js';

const FLUSH_MS = 250;
/**
 * Fetch records per message at most. The primary parses a message in one go, in front of the
 * phones it serves itself: 2,000 records were about half a megabyte of JSON, 3.5 ms to parse on
 * an idle machine (more under load); 250 rows (protocol.ts) take about 0.2 ms.
 */
const FETCHES_PER_MESSAGE = 250;

/** The last message handed to the IPC channel, settled once it is written (messages go in order). */
let lastWrite: Promise<void> = Promise.resolve();

function send(m: FromWorker): void {
  lastWrite = new Promise((written) => {
    if (process.connected && process.send) process.send(m, undefined, undefined, () => written());
    else written();
  });
}

/**
 * Where a worker's fetch records go: to the primary, which writes them (repeats were counted
 * here already, server/services/fetch-folds.ts, so they never cross the channel one by one).
 */
class ChannelFetchWriter implements FetchWriter {
  write(records: FetchRecord[]): void {
    for (let i = 0; i < records.length; i += FETCHES_PER_MESSAGE) {
      send({ type: 'fetches', rows: records.slice(i, i + FETCHES_PER_MESSAGE).map(toFetchRow) });
    }
  }

  /** Nothing waits here: the primary writes them (its admin reads sync its own writer). */
  sync(): void {}

  pending(): number {
    return 0;
  }

  async close(): Promise<void> {}
}

/**
 * Renders per message at most: a render is a few kilobytes of text, and the primary parses each
 * message in one go in front of the phones it serves itself.
 */
const RENDERS_PER_MESSAGE = 16;

/**
 * Where a worker's renders go to be stored: to the primary, which writes them (the worker writes
 * nothing). Handed over, they count as done: the worker keeps each in its own render cache, and
 * the primary finds them among its own buffered renders until they are written.
 */
class ChannelRenderSink implements RenderWriteSink {
  write(batch: RenderWrite[], done: (stored: number) => void): boolean {
    for (let i = 0; i < batch.length; i += RENDERS_PER_MESSAGE) {
      send({ type: 'renders', rows: batch.slice(i, i + RENDERS_PER_MESSAGE).map(toRenderRow) });
    }
    done(batch.length);
    return true;
  }

  sync(): void {}
}

/** Blocks decided by the primary; failures seen here are counted there. */
class BlockMirror {
  private blocks = new Map<string, number>();

  set(list: Array<[string, number]>): void {
    this.blocks = new Map(list);
  }

  blockedFor(ip: string): number {
    const until = this.blocks.get(ip);
    if (until === undefined) return 0;
    const left = until - Date.now();
    if (left > 0) return left;
    this.blocks.delete(ip);
    return 0;
  }

  fail(ip: string, kind: FailureKind): void {
    if (kind === 'admin-token') return;
    send({ type: 'fail', ip, kind });
  }
}

function start(init: Extract<ToWorker, { type: 'init' }>): void {
  // The primary runs the pre-render pass; a worker renders only what its phones ask for.
  const config: Config = { ...init.config, provisioning: { ...init.config.provisioning, prerender: false } };
  const log = createLogger(config.log.level).child({ worker: init.id });
  const db = openDatabase(config.database.path);
  // Device and download-auth rows are cached, and dropped by the change notes (ReplicaCache); which
  // uploaded files are absent is not (uploads are rare, and a phone reads its own back at once).
  // Its fetch records take the primary's path (repeats counted, batched), then go to the primary.
  const ctx = createContext({ config, db, clock: systemClock, log, stores: { cacheFiles: false }, fetchWriter: new ChannelFetchWriter(), replica: true });
  ctx.storedRenders.useSink(new ChannelRenderSink());

  const mirror = new BlockMirror();
  // Answered requests are counted here, and the tally is sent whole (server/phone-tally.ts).
  const answered = new PhoneTally();
  // So are the durations of its renders (the primary's deskprov_render_duration_seconds).
  const sendAnswered = () => {
    const tally = answered.take();
    if (tally) send({ type: 'answered', tally });
    const renders = ctx.metrics.takeRenders();
    if (renders) send({ type: 'rendered', renders });
  };
  setInterval(sendAnswered, FLUSH_MS).unref();
  const access = new PhoneAccess(ctx.downloadAuth, mirror, log, {
    allowlist: config.security.allowlist,
    requireClientCert: false,
  });
  const service = new ProvisioningService({
    config, devices: ctx.stores.devices, files: ctx.stores.files, renderer: ctx.renderer,
    recorder: ctx.recorder, guard: mirror, clock: systemClock, log, access, replica: true,
  });
  const phone = createPhoneHandler(service, {
    maxUploadBytes: config.http.maxUploadBytes,
    trustProxy: config.http.trustProxy,
    uploads: false,
    isDeferral: (err) => err instanceof DeferToPrimary,
    onError: (err, call) => log.error({ err, method: call.method, path: call.url.split('?')[0] }, 'phone request failed'),
    onResponse: (_call, r, seconds) => answered.observe(r.vendor, r.kind, r.status, seconds),
  });
  const proxy = createProxy(init.internalSocket, (err) => log.warn({ err: err.message }, 'could not pass a request to the primary'));

  // Checked before every request node:http answers, and once per turn of the lane's reads:
  // nothing stale is served after another process's commit.
  const replica = new ReplicaCache(db, ctx.stores.deviceChanges, ctx.stores.devices, ctx.catalog);
  // Answers close their connections once stopping (server/http/drain.ts).
  const drain = new Drain();
  const listener = drain.wrap((req: IncomingMessage, res: ServerResponse) => {
    replica.check();
    if (!phone(req, res)) proxy(req, res);
  });

  // Plain-HTTP phone file requests are answered from the socket (server/http/phone-lane.ts).
  // The caches are checked once per event-loop turn, after its reads (PhoneLaneOptions.beforeAnswers).
  const lane = config.http.phoneLane ? phoneLane(phone.answer, () => drain.draining, log, () => replica.check()) : null;
  const newServer = phoneServerFactory(listener, lane);
  const servers: Server[] = [];
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // Stop accepting; answers from now on close their connections (server/http/drain.ts).
    const closing = drain.close(servers);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    void closing.then(() => {
      db.close();
      // Exit once the last fetch records and renders are written to the channel.
      ctx.storedRenders.flush(); // to the primary (ChannelRenderSink): the database is not needed
      void ctx.recorder.close(); // what it counted and buffered is sent before this returns
      sendAnswered();
      void lastWrite.then(() => {
        if (process.connected) process.disconnect();
        process.exit(0);
      });
    });
  };

  process.on('message', (m: ToWorker, handle?: unknown) => {
    switch (m.type) {
      case 'listen': {
        if (!handle || stopping) return;
        const s = newServer();
        s.listen(handle as object, config.http.backlog);
        servers.push(s);
        return;
      }
      case 'handles-sent':
        if (!stopping) send({ type: 'accepting' });
        return;
      case 'blocks':
        mirror.set(m.blocks);
        return;
      case 'report':
        ctx.recorder.report();
        return;
      case 'stop':
        stop();
        return;
      case 'init':
        return;
    }
  });
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // The primary gone (crashed or killed): finish what is in flight and leave.
  process.on('disconnect', stop);
  // Templates compiled now, not by the first phones this worker answers (Renderer.prepare).
  ctx.renderer.prepare();
  const warmedUp = config.http.warmUp ? warmUpLogged({ ...warmUpDeps(ctx), replica: true }, log, { beforeAnswers: () => replica.check() }) : Promise.resolve();
  void warmedUp.then(() => {
    if (stopping) return;
    send({ type: 'ready' });
    log.debug('phone worker ready');
  });
}

process.once('message', (m: ToWorker) => {
  if (m.type !== 'init') {
    process.stderr.write('deskprov phone worker: expected an init message first\n');
    process.exit(2);
  }
  start(m);
});
