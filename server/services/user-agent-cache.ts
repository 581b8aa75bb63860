/**
 * Parsed User-Agents, remembered: a phone sends the same string on every request of its boot
 * sequence, so a bounded map saves re-parsing it.
 *
 * Every vendor's User-Agent carries the phone's MAC or serial, so there are as many strings as
 * phones, and phones come back in the same order (a boot storm, a polling interval). With more
 * phones than entries, evicting the oldest entry to admit each new one would evict every entry
 * just before its next use, and each lookup would pay a parse plus the eviction (about 3x a bare
 * parse; scripts/bench/hot-path.ts shows it per request). So the map fills once (FillingMap): new
 * strings are then parsed without being kept until it starts again empty, and strings that
 * stopped coming (a firmware upgrade changes the version in them) leave in time.
 */
import { parseUserAgent } from '../../vendors/registry.js';
import type { UserAgentInfo } from '../../vendors/vendor.js';
import { FillingMap } from './filling-map.js';

export class UserAgentCache {
  private readonly map: FillingMap<string, Readonly<UserAgentInfo> | null>;

  constructor(
    max = 16_384,
    private readonly parseOne: (ua: string) => UserAgentInfo | null = parseUserAgent,
  ) {
    this.map = new FillingMap(max);
  }

  parse(ua: string): Readonly<UserAgentInfo> | null {
    const known = this.map.get(ua);
    if (known !== undefined) return known;
    const parsed = this.parseOne(ua);
    const info = parsed ? Object.freeze(parsed) : null;
    if (this.map.admits(ua)) {
      // A copy of its own (a round trip through JSON makes one, whatever the characters): the
      // string a request brings is a slice of the request's whole text, which a key would keep alive.
      this.map.set(JSON.parse(JSON.stringify(ua)) as string, info);
    }
    return info;
  }

  get size(): number {
    return this.map.size;
  }
}
