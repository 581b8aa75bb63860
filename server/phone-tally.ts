/**
 * Answered phone requests counted in plain numbers: how many by vendor, file kind and status, and
 * how long they took, in the duration histogram's buckets. /metrics reads them at each scrape.
 *
 * Every phone request lands here, so counting is a map lookup and a few additions. prom-client
 * hashes a label set on every observation, about 3 µs, and the primary used to do that for every
 * request a phone worker answered as well: a worker's quarter-second batch of a few thousand
 * observations held the primary's event loop for over 10 ms, in front of the phones it serves
 * itself. Now a worker keeps a tally of its own and sends it whole (`take`); the primary adds it to
 * its own (`add`), a few dozen numbers however many requests they count.
 */

/** Upper bounds, in seconds, of deskprov_phone_request_duration_seconds's buckets. */
export const PHONE_DURATION_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** The histogram bucket a duration falls in: the first bound it does not exceed, or `bounds.length` past the last. */
export function bucketOf(bounds: readonly number[], seconds: number): number {
  let b = 0;
  while (b < bounds.length && seconds > bounds[b]!) b++;
  return b;
}

/** Durations counted in a histogram's buckets (the last slot: past its last bound), plain numbers. */
export class DurationTally {
  readonly buckets: number[];
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.buckets = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(seconds: number): void {
    this.buckets[bucketOf(this.bounds, seconds)]!++;
    this.sum += seconds;
    this.count++;
  }

  /** Adds another process's counts (checked with isDurationCounts when they came over IPC). */
  add(d: { buckets: readonly number[]; sum: number }): void {
    for (let b = 0; b < this.buckets.length; b++) {
      this.buckets[b]! += d.buckets[b]!;
      this.count += d.buckets[b]!;
    }
    this.sum += d.sum;
  }
}

const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;

/** Whether `buckets` and `sum` are a DurationTally's of `bounds`, as a worker's message carries them. */
export function isDurationCounts(buckets: unknown, sum: unknown, bounds: readonly number[]): boolean {
  return Array.isArray(buckets) && buckets.length === bounds.length + 1 && buckets.every(count) && typeof sum === 'number' && Number.isFinite(sum) && sum >= 0;
}

/** [vendor, file kind, status, requests]; null vendor or kind: the request matched none. */
export type PhoneCount = [string | null, string | null, number, number];

/** A tally as it travels from a phone worker to the primary (JSON). */
export interface PhoneTallyData {
  counts: PhoneCount[];
  /** Requests per bucket of PHONE_DURATION_BUCKETS, then those slower than its last bound. */
  buckets: number[];
  /** Their durations added up, in seconds. */
  sum: number;
}

export class PhoneTally {
  /** By vendor, then kind, then status: a few strings and numbers from small sets, no key to build. */
  private counts = new Map<string | null, Map<string | null, Map<number, PhoneCount>>>();
  private times = new DurationTally(PHONE_DURATION_BUCKETS);

  observe(vendor: string | null, kind: string | null, status: number, seconds: number): void {
    this.count(vendor, kind, status, 1);
    this.times.observe(seconds);
  }

  /** Adds a tally another process took (checked with isTallyData when it came over IPC). */
  add(d: PhoneTallyData): void {
    for (const [vendor, kind, status, n] of d.counts) this.count(vendor, kind, status, n);
    this.times.add(d);
  }

  /** Everything counted since the last take (null: nothing), and starts again from zero. */
  take(): PhoneTallyData | null {
    if (this.times.count === 0) return null;
    const d: PhoneTallyData = { counts: [...this.countsByLabel()], buckets: this.times.buckets, sum: this.times.sum };
    this.counts = new Map();
    this.times = new DurationTally(PHONE_DURATION_BUCKETS);
    return d;
  }

  *countsByLabel(): Iterable<PhoneCount> {
    for (const byKind of this.counts.values()) for (const byStatus of byKind.values()) yield* byStatus.values();
  }

  durations(): DurationTally {
    return this.times;
  }

  private count(vendor: string | null, kind: string | null, status: number, n: number): void {
    let byKind = this.counts.get(vendor);
    if (!byKind) this.counts.set(vendor, (byKind = new Map()));
    let byStatus = byKind.get(kind);
    if (!byStatus) byKind.set(kind, (byStatus = new Map()));
    const c = byStatus.get(status);
    if (c) c[3] += n;
    else byStatus.set(status, [vendor, kind, status, n]);
  }
}

/** The requests a tally counts. */
export function requestsIn(d: PhoneTallyData): number {
  return d.buckets.reduce((a, b) => a + b, 0);
}

/** A tally's shape: what the primary checks a worker's message for before adding it. */
const nameOrNull = (v: unknown) => v === null || typeof v === 'string';

export function isTallyData(d: unknown): d is PhoneTallyData {
  if (typeof d !== 'object' || d === null) return false;
  const { counts, buckets, sum } = d as Partial<Record<keyof PhoneTallyData, unknown>>;
  return (
    Array.isArray(counts) &&
    counts.every((c) => Array.isArray(c) && c.length === 4 && nameOrNull(c[0]) && nameOrNull(c[1]) && Number.isInteger(c[2]) && count(c[3])) &&
    isDurationCounts(buckets, sum, PHONE_DURATION_BUCKETS)
  );
}
