/**
 * Composition root: load config, open the database, build the app, start jobs, listen.
 *   npm start -- --config deskprov.json
 */
import type { Server as HttpsServer } from 'node:https';
import { Command } from 'commander';
import { databaseModeWarning, openDatabase } from '../db/index.js';
import { createApp } from './app.js';
import { addAcceptors } from './http/acceptors.js';
import { warmUpDeps, warmUpLogged } from './http/warm-up.js';
import { Drain } from './http/drain.js';
import { behindLane, phoneLane, phoneServerFactory } from './http/phone-lane.js';
import { startInternalListener, type InternalListener } from './cluster/internal-listener.js';
import { PhoneWorkers } from './cluster/workers.js';
import { createTlsServer } from './http/tls.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { DatabaseThread } from './services/database-thread.js';
import { createContext, createResyncDispatcher } from './context.js';
import { startJobs, type StopJobs } from './jobs/sweep.js';
import { createLogger } from './log.js';
import { systemClock } from './services/clock.js';
import { ensureAdminToken } from './services/tokens.js';
import { SipNotifyClient } from './sip/client.js';

const program = new Command()
  .name('deskprov')
  .description('Provisioning server for SIP desk phones, with hot desking')
  .option('-c, --config <file>', 'JSON config file (or DESKPROV_CONFIG)')
  .parse();

let config: Config;
try {
  config = loadConfig(program.opts<{ config?: string }>().config ?? process.env.DESKPROV_CONFIG);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`deskprov: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

const log = createLogger(config.log.level);
const db = openDatabase(config.database.path);
const exposed = databaseModeWarning(config.database.path);
if (exposed) log.warn({ event: 'security', kind: 'database-mode', files: exposed.files, fix: exposed.fix }, exposed.message);
const { generated } = ensureAdminToken(db, config.admin.token);
if (generated) {
  // Printed once, to the terminal only: only its hash is stored.
  process.stdout.write(
    `\n  deskprov generated an admin token (shown only now, store it safely):\n\n    ${generated}\n\n` +
      `  Use it as "Authorization: Bearer <token>" or set admin.token / DESKPROV_ADMIN_TOKEN.\n\n`,
  );
}

const ctx = createContext({ config, db, clock: systemClock, log, fetchLogThread: config.provisioning.fetchLogThread });
// Checkpoints and stored-render writes off the event loop; with the fetch-log thread, that thread checkpoints.
const dbThread =
  config.database.backgroundThread && !db.memory
    ? new DatabaseThread(db, ctx.stores.renderedFiles, (err) => log.warn({ err: err.message }, 'database thread'), {
        checkpoints: !config.provisioning.fetchLogThread,
        onCheckpoint: () => ctx.metrics.walCheckpoints.inc(),
      })
    : null;
ctx.storedRenders.useSink(dbThread);
let stopJobs: StopJobs;
try {
  stopJobs = startJobs(ctx, ctx.hotdesk);
} catch (err) {
  process.stderr.write(`deskprov: ${(err as Error).message}\n`);
  process.exit(2);
}
// Resync: the NOTIFY client and the outbox dispatcher. A SIP port that cannot be bound does not
// stop provisioning: configs keep being served, resyncs stay queued (durable) and the bind is
// retried every 30 s; the dispatcher starts once the port is ours.
const sipClient = new SipNotifyClient({
  bindHost: config.sip.bindHost,
  port: config.sip.port,
  ...(config.sip.advertiseHost !== null ? { advertisedHost: config.sip.advertiseHost } : {}),
  logger: log,
});
const resync = createResyncDispatcher(ctx, sipClient, { onResult: (r) => ctx.metrics.notifies.inc({ result: r.outcome }) });
/** Set once SIGTERM or SIGINT arrives. */
let stopping = false;
let sipRetry: NodeJS.Timeout | null = null;
function startSip(): void {
  sipClient.start().then(
    (addr) => {
      if (stopping) return;
      log.info({ sip: `${addr.address}:${addr.port}`, maxNotifiesPerSecond: config.sip.maxNotifiesPerSecond, queued: ctx.stores.outbox.depth() }, 'SIP NOTIFY client bound; resync dispatcher started');
      resync.start();
    },
    (err: NodeJS.ErrnoException) => {
      if (stopping) return;
      const where = `${config.sip.bindHost}:${config.sip.port}`;
      log.error({ sip: where, code: err.code ?? null },
        `deskprov cannot bind the SIP NOTIFY port ${where} (${err.code ?? err.message}): configs are still served, resyncs stay queued; retrying in 30 s`);
      sipRetry = setTimeout(startSip, 30_000);
    },
  );
}
startSip();

// /healthz says how many phone workers accept phones, when there are any (README).
const app = createApp(ctx, config.http.phoneWorkers > 0 ? { phoneWorkers: () => ({ configured: config.http.phoneWorkers, accepting: workers?.accepting() ?? 0 }) } : {});
// Stored renders for every device, in slices between phone requests (provisioning.prerender).
// Templates compiled and the render stamp worked out now, not by the first phones after a start.
ctx.renderer.prepare();
// The phone path run before phones come (http.warmUp), then the pre-render.
const warmedUp = (config.http.warmUp ? warmUpLogged(warmUpDeps(ctx), log) : Promise.resolve()).finally(() => {
  if (!stopping) ctx.prerender.start();
});
// On shutdown every answer not yet begun says Connection: close, so keep-alive clients send
// nothing more on a connection about to be closed (server/http/drain.ts).
const drain = new Drain();
const listener = drain.wrap(app.listener);
// Plain-HTTP phone file requests are answered from the socket; node:http serves the rest (phone-lane.ts).
const lane = config.http.phoneLane ? phoneLane(app.phone.answer, () => drain.draining, log) : null;
const newHttpServer = phoneServerFactory(listener, lane);
const server = newHttpServer();
/** Every server object accepting connections (the extra acceptors too), for shutdown. */
const servers: Array<ReturnType<typeof newHttpServer> | HttpsServer> = [server];

/** Extra handles on a listening socket so a connection burst is accepted quickly (see acceptors.ts). */
function fanOut<S extends (typeof servers)[number]>(s: S, create: () => S, what: string): void {
  addAcceptors<S>(s, { count: config.http.acceptors, backlog: config.http.backlog, create }).then(
    (extra) => {
      if (stopping) return void extra.forEach((e) => e.close());
      servers.push(...extra);
      if (extra.length) log.debug({ listener: what, acceptors: extra.length + 1 }, 'accepting on extra handles');
    },
    (err: Error) => {
      // Shutting down already: the listening socket closed under the handles being passed.
      if (!stopping) log.warn({ listener: what, err: err.message }, 'could not add accept handles; accepting on one');
    },
  );
}

server.on('error', (err) => {
  log.fatal({ err }, 'HTTP server error');
  process.exit(1);
});
/** What starts listening once the start-up sweep is done (see the end of this file). */
const listens: Array<() => void> = [];
// An explicit backlog: Node's default 511 drops SYNs when thousands of phones boot at once.
listens.push(() =>
  server.listen({ host: config.http.host, port: config.http.port, backlog: config.http.backlog }, () => {
    log.info({ http: `${config.http.host}:${config.http.port}`, db: config.database.path, baseUrl: config.provisioning.baseUrl }, 'deskprov listening');
    fanOut(server, newHttpServer, 'http');
    if (config.http.phoneWorkers > 0) startPhoneWorkers();
  }),
);

// Phone workers (http.phoneWorkers): more processes accepting phones on the same socket; what
// they cannot answer comes back here through the internal listener.
let internal: InternalListener | null = null;
let workers: PhoneWorkers | null = null;
function startPhoneWorkers(): void {
  startInternalListener((req, res) => {
    ctx.metrics.workerPassed.inc();
    app.listener(req, res);
  }).then(
    (l) => {
      if (stopping) return void l.close();
      internal = l;
      workers = new PhoneWorkers({
        count: config.http.phoneWorkers,
        acceptors: config.http.acceptors,
        server,
        internalSocket: l.path,
        ctx,
        onServed: (n) => ctx.metrics.workerRequests.inc(n),
      });
      ctx.guard.onChange = () => workers?.broadcastBlocks();
      ctx.recorder.onFlush = () => workers?.askForReports();
      workers.start();
    },
    (err: Error) => log.error({ err: err.message }, 'could not open the internal socket: phone workers not started'),
  );
}

// HTTPS (and mutual TLS for phones) beside plain HTTP, when http.tls is configured.
const tlsConfig = config.http.tls;
if (tlsConfig) {
  let tlsServer: HttpsServer;
  // The phone lane in front of node:https too (after each handshake).
  const newTlsServer = () => behindLane(lane, createTlsServer(tlsConfig, listener));
  try {
    tlsServer = newTlsServer();
    servers.push(tlsServer);
  } catch (err) {
    process.stderr.write(`deskprov: ${(err as Error).message}\n`);
    process.exit(2);
  }
  tlsServer.on('error', (err) => {
    log.fatal({ err }, 'HTTPS server error');
    process.exit(1);
  });
  const tlsHost = tlsConfig.host ?? config.http.host;
  listens.push(() =>
    tlsServer.listen({ host: tlsHost, port: tlsConfig.port, backlog: config.http.backlog }, () => {
      log.info({ https: `${tlsHost}:${tlsConfig.port}`, mutualTls: tlsConfig.clientCa.length > 0, requireClientCert: tlsConfig.requireClientCert }, 'deskprov listening (TLS)');
      fanOut(tlsServer, newTlsServer, 'https');
    }),
  );
}

function shutdown(signal: string): void {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down: no new connections, finishing requests in flight');
  const force = setTimeout(() => {
    log.warn('forcing exit after 10 s');
    process.exit(1);
  }, 10_000);
  force.unref();
  stopJobs();
  if (sipRetry !== null) clearTimeout(sipRetry);
  // NOTIFYs in flight get 3 s to be answered and recorded; unsent ones stay in the outbox.
  const sipStopped = resync.stop(3000).then(() => sipClient.close());
  // Workers stop accepting and finish what they hold (their fetch records arrive before they
  // exit); the internal listener stays open until then for the requests they pass on.
  const workersStopped = (workers?.stop(9000) ?? Promise.resolve()).then(() => internal?.close());
  // Stop listening; requests in flight (a phone's upload, an admin import) run to the end, and
  // every answer from now on closes its keep-alive connection (server/http/drain.ts).
  const listenersClosed = drain.close(servers);
  void Promise.all([listenersClosed, workersStopped, sipStopped.catch(() => undefined)]).finally(() => {
    ctx.prerender.stop(); // writes the renders still buffered
    void ctx.recorder
      .close() // the fetch records still buffered, then the writer thread
      .catch((err: unknown) => log.error({ err }, 'could not write the last fetch records'))
      .finally(async () => {
        await dbThread?.close(); // the renders still being written, then the thread
        db.close();
        log.info('stopped');
        process.exit(0);
      });
  });
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

// Sessions that expired while deskprov was down are ended before the first phone is answered:
// the start-up sweep yields between batches, and a phone fetching meanwhile would get the
// expired guest's line (20,000 sessions took ~0.6 s).
void Promise.all([stopJobs.firstSweep, warmedUp]).then(() => {
  if (!stopping) for (const listen of listens) listen();
});
