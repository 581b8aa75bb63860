/**
 * One load-generator thread (undici). Modes:
 *  - loop:  `connections` keep-alive connections; each runs phones' boot sequences back to back
 *           for `durationMs` (latencies after `warmupMs` are kept);
 *  - storm: every phone opens its own connection at the same instant and asks its 3 files;
 *  - once:  every path once with `connections` in flight (first fetches; optional save to disk).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { Client, Pool } from 'undici';

export interface Job {
  mode: 'loop' | 'storm' | 'once';
  origin: string;
  /** [path, user-agent] pairs; for loop and storm, one entry per phone with its paths. */
  phones: Array<{ ua: string; paths: string[] }>;
  /** Expected status per path (loop, storm); anything else counts as an error. */
  expected: Record<string, number> | null;
  connections: number;
  durationMs: number;
  warmupMs: number;
  /** once: where to write 200 bodies (file name = path). */
  saveDir: string | null;
}

export interface JobResult {
  requests: number;
  errors: number;
  errorSamples: string[];
  /** ms, measured requests only */
  latencies: Float64Array;
  /** absolute ms (performance.timeOrigin based) */
  startedAt: number;
  endedAt: number;
  statuses: Record<string, number>;
  /** once: status per path */
  seen: Record<string, number>;
}

const job = workerData as Job;
const now = () => performance.timeOrigin + performance.now();
const lat: number[] = [];
const statuses: Record<string, number> = {};
const seen: Record<string, number> = {};
const errorSamples: string[] = [];
let requests = 0;
let errors = 0;

function error(msg: string): void {
  errors++;
  if (errorSamples.length < 5) errorSamples.push(msg);
}

async function get(d: Pool | Client, path: string, ua: string, etag: string | null, keep: boolean): Promise<{ status: number; etag: string | null; body: Buffer | null }> {
  const t0 = performance.now();
  const headers: Record<string, string> = { 'user-agent': ua };
  if (etag) headers['if-none-match'] = etag;
  const res = await d.request({ path: `/${path}`, method: 'GET', headers });
  const body = job.saveDir && res.statusCode === 200 ? Buffer.from(await res.body.arrayBuffer()) : (await res.body.dump(), null);
  requests++;
  if (keep) lat.push(performance.now() - t0);
  statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
  const want = job.expected?.[path];
  if (want !== undefined && res.statusCode !== want && !(etag && res.statusCode === 304)) error(`${path}: ${res.statusCode}, expected ${want}`);
  const tag = res.headers.etag;
  return { status: res.statusCode, etag: typeof tag === 'string' ? tag : null, body };
}

async function loop(): Promise<void> {
  const pool = new Pool(job.origin, { connections: job.connections, pipelining: 1, connectTimeout: 60_000 });
  const t0 = now();
  const measureFrom = t0 + job.warmupMs;
  const stopAt = measureFrom + job.durationMs;
  let next = 0;
  const runner = async (): Promise<void> => {
    while (now() < stopAt) {
      const phone = job.phones[next++ % job.phones.length]!;
      for (const p of phone.paths) {
        try {
          await get(pool, p, phone.ua, null, now() >= measureFrom);
        } catch (err) {
          error(String((err as Error).message));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: job.connections }, runner));
  await pool.close();
}

async function storm(): Promise<void> {
  const clients = job.phones.map(() => new Client(job.origin, { pipelining: 1, connectTimeout: 120_000 }));
  await Promise.all(
    job.phones.map(async (phone, i) => {
      const c = clients[i]!;
      const etags = new Map<string, string>();
      for (const p of phone.paths) {
        try {
          const r = await get(c, p, phone.ua, etags.get(p) ?? null, true);
          if (r.etag) etags.set(p, r.etag);
        } catch (err) {
          error(String((err as Error).message));
        }
      }
    }),
  );
  await Promise.all(clients.map((c) => c.close()));
}

async function once(): Promise<void> {
  const pool = new Pool(job.origin, { connections: job.connections, pipelining: 1, connectTimeout: 60_000 });
  const work = job.phones.flatMap((ph) => ph.paths.map((p) => [p, ph.ua] as const));
  let next = 0;
  const runner = async (): Promise<void> => {
    while (next < work.length) {
      const [p, ua] = work[next++]!;
      try {
        const r = await get(pool, p, ua, null, true);
        seen[p] = r.status;
        if (r.body && job.saveDir) writeFileSync(join(job.saveDir, p), r.body);
      } catch (err) {
        error(String((err as Error).message));
      }
    }
  };
  await Promise.all(Array.from({ length: job.connections }, runner));
  await pool.close();
}

parentPort!.once('message', (msg: { go: true }) => {
  if (!msg.go) return;
  const startedAt = now();
  const run = job.mode === 'loop' ? loop() : job.mode === 'storm' ? storm() : once();
  void run.then(() => {
    const latencies = Float64Array.from(lat);
    const result: JobResult = { requests, errors, errorSamples, latencies, startedAt, endedAt: now(), statuses, seen };
    parentPort!.postMessage(result, [latencies.buffer]);
  });
});
parentPort!.postMessage({ ready: true });
