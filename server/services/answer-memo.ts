/**
 * The last answer to each phone file name, kept for an identical request: same method, address,
 * User-Agent, If-None-Match and Authorization, over plain HTTP. While nothing a phone answer is
 * made from has changed in this process since it was kept, such a request gets the same answer,
 * and the device, User-Agent, download-auth, render-cache and file-name lookups it took are not
 * done again.
 *
 * "Nothing has changed" is one number, `epoch`: the sum of counters that only grow, each moved by
 * the cache it belongs to whenever it drops something (a device row or its download-auth row
 * changed, a template saved, a render evicted). When it moves, every kept answer goes at once,
 * so none outlives a change, and none holds a body the render cache has let go (memory.ts
 * measures the cache's bound, which thereby covers these too). Answers that can change with time
 * alone (a 429, download auth enforced with an enrolment window) are never kept: the caller decides.
 *
 * A phone re-fetching its files (a boot loop, a short polling interval, wrk) gets the most from it;
 * a boot storm's fetches are all different and only pay the failed lookup.
 */
import { FillingMap } from './filling-map.js';

/** What a request must repeat exactly for its kept answer to be given again. */
export interface MemoRequest {
  method: string;
  name: string;
  ip: string;
  userAgent: string | null;
  ifNoneMatch: string | null;
  authorization?: string | null;
}

interface Kept<T> {
  method: string;
  ip: string;
  userAgent: string | null;
  ifNoneMatch: string | null;
  authorization: string | null;
  value: T;
}

/** Names kept at most (a site's phones ask for a few files each). */
export const MAX_KEPT = 16_384;

export class AnswerMemo<T> {
  private readonly kept: FillingMap<string, Kept<T>>;
  private seen: number;

  constructor(
    private readonly epoch: () => number,
    max = MAX_KEPT,
  ) {
    this.kept = new FillingMap(max);
    this.seen = epoch();
  }

  /** The answer kept for exactly this request, unless something changed since. */
  get(req: MemoRequest): T | undefined {
    if (!this.current()) return undefined;
    const k = this.kept.get(req.name);
    if (
      k === undefined ||
      k.method !== req.method ||
      k.ip !== req.ip ||
      k.userAgent !== req.userAgent ||
      k.ifNoneMatch !== req.ifNoneMatch ||
      k.authorization !== (req.authorization ?? null)
    ) {
      return undefined;
    }
    return k.value;
  }

  /** Keeps `value` as the answer to `req`, made from what is current now. */
  keep(req: MemoRequest, value: T): void {
    if (!this.current() || !this.kept.admits(req.name)) return;
    this.kept.set(req.name, {
      method: req.method,
      ip: req.ip,
      userAgent: req.userAgent,
      ifNoneMatch: req.ifNoneMatch,
      authorization: req.authorization ?? null,
      value,
    });
  }

  get size(): number {
    return this.kept.size;
  }

  /** False, after dropping everything kept, when the epoch moved since the last call. */
  private current(): boolean {
    const now = this.epoch();
    if (now === this.seen) return true;
    this.seen = now;
    this.kept.clear();
    return false;
  }
}
