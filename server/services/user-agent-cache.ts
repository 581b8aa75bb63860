/**
 * Parsed User-Agents, remembered: a phone sends the same string on every request of its boot
 * sequence, so a small bounded map saves re-parsing it. Oldest entries go first.
 */
import { parseUserAgent } from '../../vendors/registry.js';
import type { UserAgentInfo } from '../../vendors/vendor.js';

export class UserAgentCache {
  private readonly map = new Map<string, Readonly<UserAgentInfo> | null>();

  constructor(private readonly max = 8192) {}

  parse(ua: string): Readonly<UserAgentInfo> | null {
    const known = this.map.get(ua);
    if (known !== undefined) return known;
    const parsed = parseUserAgent(ua);
    const info = parsed ? Object.freeze(parsed) : null;
    if (this.map.size >= this.max) {
      const oldest = this.map.keys().next();
      if (!oldest.done) this.map.delete(oldest.value);
    }
    this.map.set(ua, info);
    return info;
  }
}
