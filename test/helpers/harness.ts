/**
 * Test harness: the real service graph over a real SQLite file in a temp dir, a manual clock,
 * and the app's request listener for supertest. No listening socket unless a test wants one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Server } from 'node:http';
import { join } from 'node:path';
import supertest from 'supertest';
import { openDatabase, type Db } from '../../db/index.js';
import { createApp, type App } from '../../server/app.js';
import { parseConfig, type Config } from '../../server/config.js';
import { createContext, type Context } from '../../server/context.js';
import { ManualClock } from '../../server/services/clock.js';
import { ensureAdminToken } from '../../server/services/tokens.js';
import { createLogger } from '../../server/log.js';
import { phoneLane, phoneServerFactory } from '../../server/http/phone-lane.js';

type Agent = ReturnType<typeof supertest>;

/** supertest over a new server per request, as supertest(listener) does for a bare listener. */
function perRequest(newServer: () => Server): Agent {
  return new Proxy({} as Agent, {
    get: (_target, verb: string) => (...args: unknown[]) => (supertest(newServer()) as unknown as Record<string, (...a: unknown[]) => unknown>)[verb]!(...args),
  });
}

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface Harness {
  dir: string;
  dbPath: string;
  config: Config;
  db: Db;
  clock: ManualClock;
  ctx: Context;
  app: App;
  /**
   * supertest against the app as deskprov serves it: node:http with the phone lane in front
   * (server/http/phone-lane.ts), a fresh server on an ephemeral port for each request.
   */
  http: ReturnType<typeof supertest>;
  /** `Authorization` header value for the admin token */
  auth: string;
  logs: Array<Record<string, unknown>>;
  /** Close the database (keeps the files). */
  close(): void;
  /** Close and delete the temp dir. */
  destroy(): void;
}

export interface HarnessOptions {
  config?: Record<string, unknown>;
  clock?: ManualClock;
  dir?: string;
  templateDir?: string | null;
}

export function createHarness(opts: HarnessOptions = {}): Harness {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'deskprov-test-'));
  const dbPath = join(dir, 'deskprov.db');
  const raw = {
    database: { path: dbPath },
    provisioning: { baseUrl: 'http://prov.test:8080/' },
    pbx: { host: 'pbx.test', port: 5060, transport: 'udp' },
    log: { level: 'silent' },
    ...opts.config,
  };
  const config = parseConfig(raw, {});
  const db = openDatabase(dbPath);
  ensureAdminToken(db, ADMIN_TOKEN);
  const clock = opts.clock ?? new ManualClock();
  const logs: Array<Record<string, unknown>> = [];
  // The production logger (with its redaction), writing into `logs` so tests can read them.
  const log = createLogger('debug', { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const ctx = createContext({ config, db, clock, log, templateDir: opts.templateDir ?? null });
  const app = createApp(ctx);
  const lane = config.http.phoneLane ? phoneLane(app.phone.answer, () => false, log) : null;
  const newServer = phoneServerFactory(app.listener, lane);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    ctx.recorder.flush();
    ctx.prerender.stop(); // and writes the stored renders still buffered
    db.close();
  };
  return {
    dir,
    dbPath,
    config,
    db,
    clock,
    ctx,
    app,
    http: perRequest(newServer),
    auth: `Bearer ${ADMIN_TOKEN}`,
    logs,
    close,
    destroy: () => {
      close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
