/**
 * Composition root: load config, open the database, build the app, start jobs, listen.
 *   npm start -- --config deskprov.json
 */
import { createServer } from 'node:http';
import { Command } from 'commander';
import { openDatabase } from '../db/index.js';
import { createApp } from './app.js';
import { createTlsServer } from './http/tls.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createContext, createResyncDispatcher } from './context.js';
import { startJobs } from './jobs/sweep.js';
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
const { generated } = ensureAdminToken(db, config.admin.token);
if (generated) {
  // Printed once, to the terminal only: only its hash is stored.
  process.stdout.write(
    `\n  deskprov generated an admin token (shown only now, store it safely):\n\n    ${generated}\n\n` +
      `  Use it as "Authorization: Bearer <token>" or set admin.token / DESKPROV_ADMIN_TOKEN.\n\n`,
  );
}

const ctx = createContext({ config, db, clock: systemClock, log });
let stopJobs: () => void;
try {
  stopJobs = startJobs(ctx, ctx.hotdesk);
} catch (err) {
  process.stderr.write(`deskprov: ${(err as Error).message}\n`);
  process.exit(2);
}
// Resync: the NOTIFY client and the outbox dispatcher. A SIP port that cannot be bound does not
// stop provisioning: configs keep being served, resyncs stay queued (durable) and the bind is
// retried every 30 s; the dispatcher starts once the port is ours.
const sipClient = new SipNotifyClient({ bindHost: config.sip.bindHost, port: config.sip.port, logger: log });
const resync = createResyncDispatcher(ctx, sipClient, { onResult: (r) => ctx.metrics.notifies.inc({ result: r.outcome }) });
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

const app = createApp(ctx);
const server = createServer({ keepAliveTimeout: 65_000, headersTimeout: 30_000, requestTimeout: 60_000 }, app.listener);

server.on('error', (err) => {
  log.fatal({ err }, 'HTTP server error');
  process.exit(1);
});
// An explicit backlog: Node's default 511 drops SYNs when thousands of phones boot at once.
server.listen({ host: config.http.host, port: config.http.port, backlog: config.http.backlog }, () => {
  log.info({ http: `${config.http.host}:${config.http.port}`, db: config.database.path, baseUrl: config.provisioning.baseUrl }, 'deskprov listening');
});

// HTTPS (and mutual TLS for phones) beside plain HTTP, when http.tls is configured.
const tlsConfig = config.http.tls;
let tlsServer: ReturnType<typeof createTlsServer> | null = null;
if (tlsConfig) {
  try {
    tlsServer = createTlsServer(tlsConfig, app.listener);
  } catch (err) {
    process.stderr.write(`deskprov: ${(err as Error).message}\n`);
    process.exit(2);
  }
  tlsServer.on('error', (err) => {
    log.fatal({ err }, 'HTTPS server error');
    process.exit(1);
  });
  const tlsHost = tlsConfig.host ?? config.http.host;
  tlsServer.listen({ host: tlsHost, port: tlsConfig.port, backlog: config.http.backlog }, () => {
    log.info({ https: `${tlsHost}:${tlsConfig.port}`, mutualTls: tlsConfig.clientCa.length > 0, requireClientCert: tlsConfig.requireClientCert }, 'deskprov listening (TLS)');
  });
}

let stopping = false;
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
  // Stop listening; requests in flight (a phone's upload, an admin import) run to the end.
  const listenersClosed = Promise.all([server, tlsServer].map((s) => new Promise<void>((r) => (s ? s.close(() => r()) : r()))));
  // A keep-alive connection busy at close() turns idle once its answer is out: close it then.
  const sweep = setInterval(() => {
    server.closeIdleConnections();
    tlsServer?.closeIdleConnections();
  }, 100);
  sweep.unref();
  server.closeIdleConnections();
  tlsServer?.closeIdleConnections();
  void Promise.all([listenersClosed, sipStopped.catch(() => undefined)]).finally(() => {
    clearInterval(sweep);
    ctx.recorder.flush();
    db.close();
    log.info('stopped');
    process.exit(0);
  });
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
