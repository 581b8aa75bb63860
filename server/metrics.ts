/**
 * Prometheus metrics on a registry of their own (never prom-client's global one), so every
 * context — and every test app — has its own. Counters the hot path bumps are plain
 * increments; gauges that cost a query are read only when /metrics is scraped.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DurationTally, isDurationCounts, PHONE_DURATION_BUCKETS, PhoneTally, type PhoneTallyData } from './phone-tally.js';

/** Where the scrape-time gauges read from (the stores and guards already in the context). */
export interface MetricSources {
  outboxDepth(): number;
  activeSessions(): number;
  blockedIps(): number;
  /** Render cache counters and size (Renderer.cacheStats). */
  renderCache(): { hits: number; misses: number; stored?: number; entries: number; bytes: number };
  /** Devices the pre-renderer has still to render or check (PreRenderer.pending). */
  prerenderPending?(): number;
  /** Fetch records not written to the fetch log yet (FetchRecorder.pending). */
  fetchRecordsPending?(): number;
}

export interface Metrics {
  registry: Registry;
  /**
   * Seconds spent rendering one phone file (cache misses only), by vendor: counted in plain
   * numbers and copied into deskprov_render_duration_seconds at each scrape, like the phone
   * request durations (prom-client's observe hashes the label set, a few µs of every render).
   */
  observeRender(vendor: string, seconds: number): void;
  /** The render durations observed since the last call, by vendor (a phone worker sends them to the primary); null if none. */
  takeRenders(): RenderTallies | null;
  /** Render durations a phone worker observed (takeRenders there). */
  addRenders(d: RenderTallies): void;
  /** SIP NOTIFYs sent, by result: the resync dispatcher calls `metrics.notifies.inc({ result })`. */
  notifies: Counter<'result'>;
  /** Phone requests answered by phone workers (already counted by observePhone too). */
  workerRequests: Counter;
  /** Requests phone workers passed on to the primary (admin API, uploads, a first download credential). */
  workerPassed: Counter;
  /** WAL checkpoints the database thread made that copied pages (server/services/database-thread.ts). */
  walCheckpoints: Counter;
  /**
   * One answered phone request (the phone handler's onResponse hook): the only way to count
   * deskprov_phone_requests_total and deskprov_phone_request_duration_seconds, which are filled
   * from a PhoneTally at each scrape.
   */
  observePhone(vendor: string | null, kind: string | null, status: number, seconds: number): void;
  /** The phone requests a phone worker answered, as its tally (PhoneTally.take). */
  addPhones(d: PhoneTallyData): void;
  /** The exposition text. Process metrics (CPU, memory, GC, event loop lag) start at the first scrape. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

export function createMetrics(sources: MetricSources): Metrics {
  const registry = new Registry();
  let processMetrics = false;

  // Counted in plain numbers per request (PhoneTally) and copied into prom-client at each scrape.
  const phones = new PhoneTally();
  new Counter({
    name: 'deskprov_phone_requests_total',
    help: 'Phone file requests answered, by vendor, file kind and HTTP status',
    labelNames: ['vendor', 'kind', 'status'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [vendor, kind, status, n] of phones.countsByLabel()) this.inc({ vendor: vendor ?? 'none', kind: kind ?? 'none', status: statusLabel(status) }, n);
    },
  });
  new Histogram({
    name: 'deskprov_phone_request_duration_seconds',
    help: 'Time from request to answer for phone file requests',
    buckets: [...PHONE_DURATION_BUCKETS],
    registers: [registry],
    collect() {
      this.reset();
      setDurations(this, {}, PHONE_DURATION_BUCKETS, phones.durations());
    },
  });
  const renders = new Map<string, DurationTally>();
  const renderTally = (vendor: string) => {
    let t = renders.get(vendor);
    if (!t) renders.set(vendor, (t = new DurationTally(RENDER_DURATION_BUCKETS)));
    return t;
  };
  new Histogram({
    name: 'deskprov_render_duration_seconds',
    help: 'Time to render one phone file (render cache misses)',
    labelNames: ['vendor'] as const,
    buckets: [...RENDER_DURATION_BUCKETS],
    registers: [registry],
    collect() {
      this.reset();
      for (const [vendor, t] of renders) setDurations(this, { vendor }, RENDER_DURATION_BUCKETS, t);
    },
  });
  const notifies = new Counter({
    name: 'deskprov_notifies_total',
    help: 'SIP NOTIFYs (resync) sent, by result',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const workerRequests = new Counter({
    name: 'deskprov_phone_worker_requests_total',
    help: 'Phone requests answered by phone workers (http.phoneWorkers); included in deskprov_phone_requests_total',
    registers: [registry],
  });
  const walCheckpoints = new Counter({
    name: 'deskprov_wal_checkpoints_total',
    help: 'WAL checkpoints made off the event loop (database.backgroundThread) that copied pages into the database file',
    registers: [registry],
  });
  const workerPassed = new Counter({
    name: 'deskprov_phone_worker_passed_total',
    help: 'Requests phone workers passed on to the primary process (admin API, uploads, a first download credential)',
    registers: [registry],
  });
  // Counters owned by the renderer: copied at scrape time (reset + inc keeps them counters).
  new Counter({
    name: 'deskprov_render_cache_hits_total',
    help: 'Phone files served from the render cache',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources.renderCache().hits);
    },
  });
  new Counter({
    name: 'deskprov_render_cache_misses_total',
    help: 'Phone files that had to be rendered',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources.renderCache().misses);
    },
  });
  new Counter({
    name: 'deskprov_render_stored_hits_total',
    help: 'Phone files served from a stored render (rendered earlier or by another process run)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(sources.renderCache().stored ?? 0);
    },
  });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers: [registry], collect() { this.set(read()); } });
  gauge('deskprov_render_cache_entries', 'Rendered files held in the cache', () => sources.renderCache().entries);
  gauge('deskprov_render_cache_bytes', 'Bytes the render cache holds: its files and an allowance each for their bookkeeping', () => sources.renderCache().bytes);
  gauge('deskprov_prerender_pending', 'Devices whose files wait to be pre-rendered or checked', () => sources.prerenderPending?.() ?? 0);
  gauge('deskprov_fetch_records_pending', 'Phone fetch records (the primary\'s, and the workers\' that reached it) not yet written to the fetch log', () => sources.fetchRecordsPending?.() ?? 0);
  gauge('deskprov_outbox_depth', 'Resync NOTIFYs waiting in the outbox', sources.outboxDepth);
  gauge('deskprov_active_sessions', 'Hot-desk sessions active now', sources.activeSessions);
  gauge('deskprov_blocked_ips', 'Source IPs blocked for piling up failed phone requests', sources.blockedIps);

  return {
    registry,
    observeRender(vendor, seconds) {
      renderTally(vendor).observe(seconds);
    },
    takeRenders() {
      if (renders.size === 0) return null;
      const out: RenderTallies = {};
      for (const [vendor, t] of renders) out[vendor] = { buckets: [...t.buckets], sum: t.sum, count: t.count };
      renders.clear();
      return out;
    },
    addRenders(d) {
      for (const [vendor, add] of Object.entries(d)) renderTally(vendor).add(add);
    },
    notifies,
    workerRequests,
    workerPassed,
    walCheckpoints,
    observePhone(vendor, kind, status, seconds) {
      phones.observe(vendor, kind, status, seconds);
    },
    addPhones(d) {
      phones.add(d);
    },
    async scrape() {
      if (!processMetrics) {
        processMetrics = true;
        collectDefaultMetrics({ register: registry, prefix: 'deskprov_' });
      }
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

/** Status labels from a fixed set, so a label never carries arbitrary values. */
const STATUS_LABELS = new Map<number, string>([200, 201, 304, 400, 401, 403, 404, 405, 413, 414, 429, 500, 503].map((s) => [s, String(s)]));
function statusLabel(status: number): string {
  return STATUS_LABELS.get(status) ?? `${Math.floor(status / 100)}xx`;
}

/** prom-client's record of one label set of a histogram (its internals, version 15). */
interface HistogramEntry {
  labels: Record<string, string | number>;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

/** Upper bounds, in seconds, of deskprov_render_duration_seconds's buckets. */
export const RENDER_DURATION_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05];

/** A DurationTally's counts as a phone worker sends them. */
export interface DurationCounts {
  buckets: number[];
  sum: number;
  count: number;
}

/** Render durations by vendor, as a phone worker sends them. */
export type RenderTallies = Record<string, DurationCounts>;

/** Whether `v` is a RenderTallies of RENDER_DURATION_BUCKETS (a worker's message, checked). */
export function isRenderTallies(v: unknown): v is RenderTallies {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  return Object.values(v).every((t: unknown) => {
    if (typeof t !== 'object' || t === null) return false;
    const { buckets, sum, count } = t as Partial<Record<keyof DurationCounts, unknown>>;
    return isDurationCounts(buckets, sum, RENDER_DURATION_BUCKETS) && Number.isSafeInteger(count);
  });
}

/**
 * Makes one label set of a histogram (reset by the caller) hold a tally's counts. prom-client can
 * only add to a histogram one observation at a time, so this writes its record directly: it has
 * the histogram make the zeroed entry of `labels` (`zero`) and sets that entry's per-bound counts
 * (not cumulative; prom-client adds them up when it exports), sum and count. These are prom-client
 * 15's internals: test/unit/phone-tally.test.ts compares the whole exposition with prom-client's own
 * for the same observations, for both histograms, so a release that changes them fails it.
 */
function setDurations(h: Histogram<string>, labels: Record<string, string>, bounds: readonly number[], d: { buckets: readonly number[]; sum: number; count: number }): void {
  h.zero(labels);
  const keys = Object.keys(labels);
  const entry = Object.values((h as unknown as { hashMap: Record<string, HistogramEntry> }).hashMap).find((e) => keys.every((k) => e.labels[k] === labels[k]));
  if (!entry) return;
  bounds.forEach((bound, i) => (entry.bucketValues[bound] = d.buckets[i]!));
  entry.sum = d.sum;
  entry.count = d.count;
}
