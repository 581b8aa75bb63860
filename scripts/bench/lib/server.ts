/**
 * Starts deskprov the way an operator does (`node --import tsx server/main.ts --config FILE`)
 * in a child process on 127.0.0.1 and a free port, and waits for /healthz.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

export interface RunningServer {
  port: number;
  pid: number;
  child: ChildProcess;
  /** Resident set size and other memory of the process, from /proc (Linux). */
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

export function rssMbOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

/** The V8 flags `npm start` runs deskprov with (package.json), so benchmarks measure the same process. */
export const START_NODE_ARGS = ['--max-old-space-size=192', '--max-semi-space-size=4'];

export interface StartOptions {
  dir: string;
  dbPath: string;
  /** Extra config keys merged over the defaults (log level warn, loopback, random port). */
  config?: Record<string, unknown>;
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
}

export async function startDeskprov(o: StartOptions): Promise<RunningServer> {
  const port = await freePort();
  const configPath = join(o.dir, `deskprov-${port}.json`);
  const config = {
    http: { host: '127.0.0.1', port },
    database: { path: o.dbPath },
    admin: { token: 'bench-admin-token-0123456789abcdef' },
    provisioning: { baseUrl: `http://127.0.0.1:${port}/` },
    sip: { bindHost: '127.0.0.1', port: 0 },
    log: { level: 'warn' },
    ...o.config,
  };
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const child = spawn(process.execPath, [...(o.nodeArgs ?? START_NODE_ARGS), '--import', 'tsx', 'server/main.ts', '--config', configPath], {
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
    memory: () => ({ rssMb: rssMbOf(child.pid ?? 0) }),
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
