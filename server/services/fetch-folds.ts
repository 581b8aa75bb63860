/**
 * Repeated fetches folded into one fetch-log row (config `provisioning.fetchLogRepeatWindow`).
 *
 * A phone that asks for the same file again and gets the same answer (same status, config
 * version and line, from the same address with the same User-Agent) within the window of the
 * first such fetch (ending at random in its last quarter) adds no row: the first fetch's row counts it (`repeat_count`, and
 * `last_repeat_at`, the newest one's time). A phone stuck in a boot loop, or polling every few seconds, thus fills the
 * log with one row a file a window, not thousands, and its history keeps the fetches that differ.
 * Anything that differs (another file, status, version, address) gets a row of its own at once.
 *
 * Each process that answers phones folds its own fetches before they are batched (a phone
 * worker's therefore never cross the IPC channel). What a fold has counted reaches the log as a
 * repeat record (FetchRecord with `repeats`), which the store writes as an UPDATE of the row:
 * the first repeat at once, so a phone coming back after a NOTIFY shows as soon as a new row
 * would; later ones every `reportEveryMs` (by default only once the window has ended, or on flush).
 */
import type { FetchRecord } from '../../db/stores/devices.js';

/**
 * How often a fold's further repeats are reported: by default no more often than a default window
 * lasts, so they are reported when the window ends (or the fold is flushed or pushed out). Each
 * report is an UPDATE of a random fetch-log row, written by the primary whichever process
 * answered: every 10 s, with wrk re-fetching 12,500 files through two processes, that was about
 * 2,500 row updates a second in the primary, the busier of the two (its fetch-log writer took 5%
 * of it, perf), for a lastFetch time at most 10 s old instead of at most a window old.
 */
export const REPEAT_REPORT_MS = 60_000;
/** Open folds at most; the oldest is closed to make room (and reports what it counted). */
export const MAX_OPEN_FOLDS = 16_384;
/**
 * Reports per `due` call at most; the rest wait for the next call. Folds opened together (a boot
 * storm, or wrk) fall due together: 20,000 repeat records at once would reach the primary's
 * writer together, an UPDATE each, and keep it writing in every turn for seconds while phones wait.
 */
export const REPORTS_PER_CHECK = 2_000;

interface Fold extends FetchFold {
  /** The record that got the row. */
  first: FetchRecord;
  ended: boolean;
  repeated: boolean;
  /** When its window ends (see FetchFoldOptions.jitter). */
  endsAt: number;
  /** Repeats counted and not reported yet. */
  unreported: number;
  lastAt: number;
  /** When the next report is due; 0 until the first repeat (which is reported at once). */
  nextReportAt: number;
}

/** A fold as callers hold it, to pass back to FetchFolds.repeat. */
export interface FetchFold {
  /** Set when the fold ended: its row takes no more repeats. */
  readonly ended: boolean;
  /** Set once it has counted a repeat: the fetch just recorded on it was not its first. */
  readonly repeated: boolean;
}

export interface FetchFoldOptions {
  windowMs: number;
  /**
   * Each fold's window ends early by up to this share of it, at random (default 0.25), so folds
   * opened together (a boot storm) do not all end, and write their next rows, in the same second.
   */
  jitter?: number;
  random?: () => number;
  /** The clock fetch records are stamped with: given, the folds check what is due every second. */
  now?: () => number;
  reportEveryMs?: number;
  maxOpen?: number;
}

/** How often the folds' own timer calls `due`. */
const CHECK_EVERY_MS = 1000;

const sameAnswer = (a: FetchRecord, b: FetchRecord): boolean =>
  a.status === b.status &&
  a.configVersion === b.configVersion &&
  a.ip === b.ip &&
  a.userAgent === b.userAgent &&
  a.lineUser === b.lineUser &&
  a.extension === b.extension &&
  a.model === b.model &&
  a.firmware === b.firmware;

export class FetchFolds {
  /** By `mac/file`, oldest first. */
  private readonly open = new Map<string, Fold>();
  private readonly windowMs: number;
  private readonly reportEveryMs: number;
  private readonly maxOpen: number;
  private readonly jitterMs: number;
  private readonly random: () => number;
  private readonly timer: NodeJS.Timeout | null;

  constructor(
    /** Where rows and repeat records go (a batcher). */
    private readonly out: (r: FetchRecord) => void,
    o: FetchFoldOptions,
  ) {
    this.windowMs = o.windowMs;
    this.reportEveryMs = o.reportEveryMs ?? REPEAT_REPORT_MS;
    this.maxOpen = o.maxOpen ?? MAX_OPEN_FOLDS;
    this.jitterMs = this.windowMs * (o.jitter ?? 0.25);
    this.random = o.random ?? Math.random;
    const now = o.now;
    this.timer = now && this.windowMs > 0 ? setInterval(() => this.due(now()), CHECK_EVERY_MS).unref() : null;
  }

  /** Counts one fetch: on an open fold, or as a new row. Returns the fold that counts it (none without a window). */
  record(r: FetchRecord): FetchFold | null {
    if (this.windowMs <= 0) {
      this.out(r);
      return null;
    }
    const key = `${r.mac}/${r.file}`;
    const fold = this.open.get(key);
    if (fold !== undefined) {
      if (r.at >= fold.first.at && r.at < fold.endsAt && sameAnswer(fold.first, r)) {
        this.count(fold, r.at);
        return fold;
      }
      this.end(key, fold);
    } else if (this.open.size >= this.maxOpen) {
      const [oldKey, oldest] = this.open.entries().next().value as [string, Fold];
      this.end(oldKey, oldest);
    }
    this.out(r);
    const endsAt = r.at + this.windowMs - Math.floor(this.random() * this.jitterMs);
    const opened: Fold = { first: r, ended: false, repeated: false, endsAt, unreported: 0, lastAt: r.at, nextReportAt: 0 };
    this.open.set(key, opened);
    return opened;
  }

  /**
   * One more fetch with the same answer as `fold`'s first, at `at`, counted on it without a lookup
   * or a comparison: for a caller that knows the answer is the same (an answer given again to an
   * identical request, answer-memo.ts). False when the fold has ended or `at` is outside its window:
   * then the fetch is for `record`.
   */
  repeat(fold: FetchFold, at: number): boolean {
    const f = fold as Fold;
    if (f.ended || at < f.first.at || at >= f.endsAt) return false;
    this.count(f, at);
    return true;
  }

  private count(fold: Fold, at: number): void {
    fold.repeated = true;
    if (at > fold.lastAt) fold.lastAt = at;
    if (fold.nextReportAt === 0) {
      this.out(repeatOf(fold.first, 1, fold.lastAt));
      fold.nextReportAt = at + this.reportEveryMs;
    } else {
      fold.unreported++;
    }
  }

  /**
   * Reports the folds due by `now` (REPORTS_PER_CHECK at most) and closes those whose window has
   * ended: a pass over the open folds. The timer calls it every second (given `now`).
   */
  due(now: number): void {
    let reports = 0;
    for (const [key, fold] of this.open) {
      if (reports >= REPORTS_PER_CHECK) return;
      if (now >= fold.endsAt) {
        if (fold.unreported > 0) reports++;
        this.end(key, fold);
      } else if (fold.unreported > 0 && now >= fold.nextReportAt) {
        reports++;
        this.report(fold);
        fold.nextReportAt = now + this.reportEveryMs;
      }
    }
  }

  /** Reports every fold's unreported repeats now (before reads that must see them, at shutdown). */
  flush(): void {
    for (const fold of this.open.values()) this.report(fold);
  }

  /** Stops the timer and reports what is unreported (shutdown). */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.flush();
  }

  /** Folds open now. */
  get size(): number {
    return this.open.size;
  }

  private report(fold: Fold): void {
    if (fold.unreported === 0) return;
    this.out(repeatOf(fold.first, fold.unreported, fold.lastAt));
    fold.unreported = 0;
  }

  private end(key: string, fold: Fold): void {
    fold.ended = true;
    this.report(fold);
    this.open.delete(key);
  }
}

/** `n` more fetches of the row `first` got, the newest at `lastAt`. */
const repeatOf = (first: FetchRecord, n: number, lastAt: number): FetchRecord => ({ ...first, repeats: n, lastAt });
