/**
 * Network allowlists for phone downloads: CIDR lists (site-wide from config, per device from the
 * database) checked with node's net.BlockList. An empty list allows everyone.
 */
import { BlockList, isIP } from 'node:net';

/** `10.0.0.0/8`, `2001:db8::/32`, or a single address. Returns null when it is not one. */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | null {
  if (typeof text !== 'string' || text.length > 64) return null;
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const v = isIP(address);
  if (v === 0) return null;
  const family = v === 4 ? 'ipv4' : 'ipv6';
  const max = v === 4 ? 32 : 128;
  if (slash === -1) return { address, prefix: max, family };
  const p = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(p) || Number(p) > max) return null;
  return { address, prefix: Number(p), family };
}

export function isCidr(text: string): boolean {
  return parseCidr(text) !== null;
}

/** A compiled allowlist. `allows` is false for anything that is not an IP address. */
export class Allowlist {
  private readonly list = new BlockList();
  readonly empty: boolean;

  constructor(readonly cidrs: readonly string[]) {
    for (const c of cidrs) {
      const r = parseCidr(c);
      if (!r) throw new TypeError(`not a CIDR: ${c}`);
      this.list.addSubnet(r.address, r.prefix, r.family);
    }
    this.empty = cidrs.length === 0;
  }

  allows(ip: string): boolean {
    if (this.empty) return true;
    const v = isIP(ip);
    if (v === 0) return false;
    return this.list.check(ip, v === 4 ? 'ipv4' : 'ipv6');
  }
}

/** Compiled per-device lists, keyed by their JSON text so an edit compiles anew. */
export class AllowlistCache {
  private readonly cache = new Map<string, Allowlist>();

  get(json: string): Allowlist {
    let a = this.cache.get(json);
    if (!a) {
      if (this.cache.size > 10_000) this.cache.clear();
      a = new Allowlist(JSON.parse(json) as string[]);
      this.cache.set(json, a);
    }
    return a;
  }
}
