/**
 * Starts deskprov the way `npm start` does (its build, then `node <flags> dist/server/main.js
 * --config FILE`) in a child process on 127.0.0.1 and a free port, and waits for /healthz.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startScript } from '../../../test/helpers/process.js';

export const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

export interface RunningServer {
  port: number;
  pid: number;
  child: ChildProcess;
  /** Resident set size and other memory of the process, from /proc (Linux). */
  /** Resident set size of the process and its phone workers, from /proc (Linux). */
  memory(): { rssMb: number };
  /** SIGTERM, then wait for exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<number | null>;
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolvePort(port));
    });
  });
}

export async function waitForHttp(url: string, timeoutMs = 30_000, alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!alive()) throw new Error(`server exited before answering ${url}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`no answer from ${url} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The child processes of `pid` (deskprov's phone workers); none when /proc cannot say. */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return []; // no children file (old kernel) or the process is gone
  }
}

/** RSS of a process and its children (deskprov's phone workers, nginx's workers), in MB. */
export function treeRssMbOf(pid: number): number {
  const children = childrenOf(pid);
  const safe = (p: number) => {
    try {
      return rssMbOf(p);
    } catch {
      return 0; // exited between the listing and the read
    }
  };
  return rssMbOf(pid) + children.reduce((sum, c) => sum + safe(c), 0);
}

export function rssMbOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** The admin token every benchmark server is started with (its admin API is on loopback only). */
export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';

/** `npm start`'s command line: its V8 flags and its entry, so benchmarks measure the same process. */
const START = startScript();
export const START_NODE_ARGS = START.flags;

let built = false;
/** Compiles deskprov as `npm start` does first (its prestart), once a run: the code measured is the code as it is. */
function buildOnce(): void {
  if (built) return;
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  built = true;
}

export interface StartOptions {
  dir: string;
  dbPath: string;
  /** Extra config keys merged over the defaults (log level warn, loopback, random port). */
  config?: Record<string, unknown>;
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** Listen on this port (e.g. a restart that keeps baseUrl, hence the stored renders, the same). */
  port?: number;
  /** provisioning.prerender (default: the server's default, on). */
  prerender?: boolean;
  /** http.phoneWorkers: extra processes answering phone files (default 0). */
  workers?: number;
  /** provisioning.fetchLogThread (default: deskprov's own). */
  fetchLogThread?: boolean;
}

/** Calls `done` every 100 ms until it says true; throws `failure()` after `timeoutMs`. Returns the seconds it took. */
async function pollUntil(done: () => Promise<boolean>, timeoutMs: number, failure: () => string): Promise<number> {
  const started = Date.now();
  while (!(await done())) {
    if (Date.now() - started > timeoutMs) throw new Error(failure());
    await new Promise((r) => setTimeout(r, 100));
  }
  return (Date.now() - started) / 1000;
}

/**
 * Polls /healthz until the pre-renderer has nothing pending and every phone worker accepts
 * phones (a run started before would put its connections on the primary alone); returns the
 * seconds it took. (A server without the fields counts as done.)
 */
export function waitUntilReady(port: number, timeoutMs = 600_000): Promise<number> {
  return pollUntil(
    async () => {
      const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as {
        prerender?: { pending: number };
        phoneWorkers?: { configured: number; accepting: number };
      };
      const workersUp = !health.phoneWorkers || health.phoneWorkers.accepting >= health.phoneWorkers.configured;
      return (health.prerender?.pending ?? 0) === 0 && workersUp;
    },
    timeoutMs,
    () => `pre-render still pending, or a phone worker not accepting, after ${timeoutMs} ms`,
  );
}

/**
 * Waits until deskprov has written every fetch record of the requests it answered (its
 * deskprov_fetch_records_pending is 0), so what it still owes for one run is not done during the
 * next, another server's included. A phone worker sends its records every 250 ms: the first look
 * is after that. Returns the seconds it took.
 */
export async function waitUntilWritten(port: number, timeoutMs = 120_000): Promise<number> {
  await new Promise((r) => setTimeout(r, 300));
  let pending = 0;
  const waited = await pollUntil(
    async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { Authorization: `Bearer ${BENCH_ADMIN_TOKEN}` } })).text();
      pending = Number(/^deskprov_fetch_records_pending (\d+)/m.exec(text)?.[1] ?? 0);
      return pending === 0;
    },
    timeoutMs,
    () => `${pending} fetch records still not written after ${timeoutMs} ms`,
  );
  return waited + 0.3;
}

export async function startDeskprov(o: StartOptions): Promise<RunningServer> {
  const port = o.port ?? (await freePort());
  const configPath = join(o.dir, `deskprov-${port}.json`);
  const config = {
    admin: { token: BENCH_ADMIN_TOKEN },
    sip: { bindHost: '127.0.0.1', port: 0 },
    log: { level: 'warn' },
    ...o.config,
    // Database, listener and provisioning keys given by the caller (e.g. backgroundThread, acceptors,
    // renderCacheMb) go beside the bench's own path, host, port and baseUrl instead of replacing them.
    database: { ...(o.config?.database as object | undefined), path: o.dbPath },
    http: { ...(o.config?.http as object | undefined), ...(o.workers ? { phoneWorkers: o.workers } : {}), host: '127.0.0.1', port },
    provisioning: {
      ...(o.config?.provisioning as object | undefined),
      baseUrl: `http://127.0.0.1:${port}/`,
      ...(o.prerender !== undefined ? { prerender: o.prerender } : {}),
      ...(o.fetchLogThread !== undefined ? { fetchLogThread: o.fetchLogThread } : {}),
    },
  };
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  buildOnce();
  const child = spawn(process.execPath, [...(o.nodeArgs ?? START_NODE_ARGS), ...START.entry, '--config', configPath], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, ...o.env },
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000, alive);
  return {
    port,
    pid: child.pid ?? 0,
    child,
    memory: () => ({ rssMb: treeRssMbOf(child.pid ?? 0) }),
    stop: async (graceMs = 15_000) => {
      if (!alive()) return exited;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}
