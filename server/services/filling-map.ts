/**
 * A bounded map for keys that come back in the same order, as phones do (a boot storm, a polling
 * interval). Evicting the oldest key to admit each new one would, with more keys than room, evict
 * every key just before its next use. So once full it admits no new key, and after as many
 * refusals as it holds it starts again empty, so keys that stopped coming leave in time.
 */
export class FillingMap<K, V> {
  private readonly map = new Map<K, V>();
  /** New keys refused since the map filled up. */
  private refused = 0;

  constructor(readonly max: number) {}

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  /**
   * Whether `key` may be set now: there is room, or it is held already. A refusal is counted, and
   * the one that makes as many as the map holds empties it.
   */
  admits(key: K): boolean {
    if (this.map.size < this.max || this.map.has(key)) return true;
    if (++this.refused >= this.max) this.clear();
    return false;
  }

  /** Sets `key` (call after `admits`). */
  set(key: K, value: V): void {
    this.map.set(key, value);
  }

  clear(): void {
    this.map.clear();
    this.refused = 0;
  }

  get size(): number {
    return this.map.size;
  }
}
