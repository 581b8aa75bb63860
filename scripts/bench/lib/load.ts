/**
 * Runs a load job over several worker threads (so the client is not one starved event loop)
 * and merges their results. All threads are released at the same instant.
 */
import { Worker } from 'node:worker_threads';
import type { Job, JobResult } from './load-worker.js';
import { percentile, round, sortedSamples } from './stats.js';

/** Worker threads do not inherit tsx's loader on Node 20: each one registers it, then loads the TypeScript worker. */
const BOOT = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => m.tsImport(${JSON.stringify(new URL('./load-worker.ts', import.meta.url).href)}, ${JSON.stringify(import.meta.url)}))`;

export interface LoadSummary {
  requests: number;
  /** requests whose latency was measured (after warm-up) */
  measured: number;
  errors: number;
  errorSamples: string[];
  seconds: number;
  reqPerSec: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  statuses: Record<string, number>;
  seen: Record<string, number>;
}

export async function runLoad(job: Job, threads: number): Promise<LoadSummary> {
  const n = Math.max(1, Math.min(threads, job.phones.length));
  const workers = Array.from({ length: n }, (_, t) => {
    const phones = job.phones.filter((_, i) => i % n === t);
    const connections = Math.max(1, Math.floor(job.connections / n) + (t < job.connections % n ? 1 : 0));
    return new Worker(BOOT, { eval: true, workerData: { ...job, phones, connections } satisfies Job });
  });
  await Promise.all(workers.map((w) => new Promise<void>((r, reject) => {
    w.once('message', () => r());
    w.once('error', reject);
  })));
  const results = workers.map((w) => new Promise<JobResult>((r, reject) => {
    w.once('message', (m: JobResult) => r(m));
    w.once('error', reject);
  }));
  for (const w of workers) w.postMessage({ go: true });
  const all = await Promise.all(results);
  await Promise.all(workers.map((w) => w.terminate()));

  const lat = sortedSamples(all.map((r) => r.latencies));
  const startedAt = Math.min(...all.map((r) => r.startedAt));
  const endedAt = Math.max(...all.map((r) => r.endedAt));
  const statuses: Record<string, number> = {};
  const seen: Record<string, number> = {};
  for (const r of all) {
    for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
    Object.assign(seen, r.seen);
  }
  const seconds = job.mode === 'loop' ? job.durationMs / 1000 : (endedAt - startedAt) / 1000;
  return {
    requests: all.reduce((s, r) => s + r.requests, 0),
    measured: lat.length,
    errors: all.reduce((s, r) => s + r.errors, 0),
    errorSamples: all.flatMap((r) => r.errorSamples).slice(0, 5),
    seconds: round(seconds, 3),
    reqPerSec: Math.round(lat.length / seconds),
    p50: round(percentile(lat, 50), 2),
    p90: round(percentile(lat, 90), 2),
    p99: round(percentile(lat, 99), 2),
    max: round(lat[lat.length - 1] ?? NaN, 2),
    statuses,
    seen,
  };
}
