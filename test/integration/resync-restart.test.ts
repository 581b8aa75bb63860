/**
 * Durability of the resync queue across a crash: a real deskprov process queues NOTIFYs to a
 * SIPp phone under a very low throttle, is SIGKILLed with most of them unsent, and a new
 * process on the same database file sends them.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { requireSipp, startSipp, type Sipp } from '../helpers/sipp.js';
import { freePort } from '../helpers/ports.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TOKEN = 'restart-test-admin-token-0123456789';
const PHONES = 5;


interface Server {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startServer(configFile: string): Server {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', '--config', configFile], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DESKPROV_ADMIN_TOKEN: '' },
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

describe('resync across a crash', function () {
  this.timeout(60_000);
  let dir = '';
  let sipp: Sipp | null = null;
  const servers: Server[] = [];

  before(function () {
    requireSipp(this);
    dir = mkdtempSync(path.join(tmpdir(), 'deskprov-restart-'));
  });
  after(async () => {
    for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    sipp?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('kills the server with NOTIFYs queued and shows they are sent after restart', async () => {
    sipp = await startSipp({ scenario: 'uas_notify_200.xml', calls: PHONES, timeout: '50s' });
    const dbPath = path.join(dir, 'deskprov.db');
    const port = await freePort();
    const writeConfig = (name: string, maxNotifiesPerSecond: number): string => {
      const file = path.join(dir, name);
      writeFileSync(file, JSON.stringify({
        http: { host: '127.0.0.1', port },
        database: { path: dbPath },
        admin: { token: TOKEN },
        sip: { bindHost: '127.0.0.1', port: 0, maxNotifiesPerSecond },
        log: { level: 'info' },
      }));
      return file;
    };
    const base = `http://127.0.0.1:${port}`;
    const call = async (method: string, p: string, body?: object) => {
      const r = await fetch(`${base}${p}`, {
        method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    const up = (s: Server) => waitForAsync(() => `deskprov to listen\n${s.output()}`, async () => ((await fetch(`${base}/healthz`)).ok ? true : null));

    // 1. One NOTIFY every 100 s: the first leaves at once, the other four wait in the outbox.
    const first = startServer(writeConfig('slow.json', 0.01));
    servers.push(first);
    await up(first);
    for (let i = 0; i < PHONES; i++) {
      const r = await call('POST', '/api/v1/devices', { mac: `001565ab00${i.toString(16).padStart(2, '0')}`, vendor: 'yealink', sipContact: `sip:127.0.0.1:${sipp.port}` });
      expect(r.status, JSON.stringify(r.body)).to.equal(201);
    }
    expect(await call('POST', '/api/v1/resync', { vendor: 'yealink' })).to.deep.equal({ status: 202, body: { queued: PHONES } });
    await waitForAsync('the first NOTIFY', async () => {
      const s = await call('GET', '/api/v1/status');
      const notifies = s.body['notifies'] as { lastHour: { ok: number } };
      return notifies.lastHour.ok === 1 && s.body['outboxDepth'] === PHONES - 1 ? true : null;
    });

    // 2. Crash: no shutdown code runs.
    first.child.kill('SIGKILL');
    await first.exited;
    const db = new Database(dbPath, { readonly: true });
    try {
      expect((db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n, 'queued NOTIFYs are on disk').to.equal(PHONES - 1);
      expect((db.prepare("SELECT count(*) AS n FROM notify_log WHERE outcome = 'ok'").get() as { n: number }).n).to.equal(1);
    } finally {
      db.close();
    }

    // 3. A new process on the same database sends them without anyone asking again.
    const second = startServer(writeConfig('fast.json', 50));
    servers.push(second);
    await up(second);
    expect(await sipp.exited, `SIPp got all ${PHONES} NOTIFYs\n${sipp.stderr()}\n${second.output()}`).to.equal(0);
    await waitForAsync('an empty outbox', async () => ((await call('GET', '/api/v1/status')).body['outboxDepth'] === 0 ? true : null));
    const check = new Database(dbPath, { readonly: true });
    try {
      const rows = check.prepare('SELECT mac, status, outcome FROM notify_log ORDER BY id').all() as Array<{ mac: string; status: number; outcome: string }>;
      expect(rows).to.have.length(PHONES);
      expect(new Set(rows.map((r) => r.mac)).size).to.equal(PHONES);
      expect(rows.every((r) => r.status === 200 && r.outcome === 'ok')).to.equal(true);
    } finally {
      check.close();
    }
    second.child.kill('SIGTERM');
    expect(await second.exited, second.output()).to.equal(0);
  });
});

/** Polls an async check every 50 ms until it yields a value, for up to 20 s. */
async function waitForAsync<T>(what: string | (() => string), check: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = await check().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
