/**
 * The vendor adapters deskprov knows, one line each. A new vendor is a folder under
 * vendors/ and one line here. Order matters only as a tie-break: it is the order of
 * matchFile results and the order User-Agent parsers are tried in.
 */
import { ouiOf, type Mac } from '../server/domain/mac.js';
import { polycom } from './polycom/index.js';
import { sangomaP } from './sangoma-p/index.js';
import { sangomaS } from './sangoma-s/index.js';
import type { FileMatch, UserAgentInfo, VendorAdapter } from './vendor.js';
import { yealink } from './yealink/index.js';

export const vendors: readonly VendorAdapter[] = [
  yealink,
  polycom,
  sangomaP,
  sangomaS,
];

export const vendorIds: readonly string[] = vendors.map((v) => v.id);

const byId = new Map(vendors.map((v) => [v.id, v]));

export function getVendor(id: string): VendorAdapter | null {
  return byId.get(id) ?? null;
}

/**
 * Every vendor's reading of a request file name. `<mac>.cfg` matches Yealink, Polycom and
 * Sangoma P; `000000000000.cfg` matches Polycom (default master) and Sangoma P (global
 * file): the caller picks by device record, User-Agent or OUI.
 */
export function matchFile(name: string): FileMatch[] {
  const out: FileMatch[] = [];
  for (const v of vendors) {
    const m = v.matchFile(name);
    if (m) out.push(m);
  }
  return out;
}

/** The first adapter that recognises the User-Agent; null for anything else. Never throws. */
export function parseUserAgent(ua: string): UserAgentInfo | null {
  if (typeof ua !== 'string' || ua.length === 0) return null;
  for (const v of vendors) {
    const info = v.parseUserAgent(ua);
    if (info) return info;
  }
  return null;
}

/** Every vendor whose OUI list holds the MAC's (Sangoma P and S share one). */
export function vendorsForOui(mac: Mac): VendorAdapter[] {
  const oui = ouiOf(mac);
  return vendors.filter((v) => v.ouis.includes(oui));
}

/** The first vendor claiming the MAC's OUI, null when none does. */
export function vendorForOui(mac: Mac): VendorAdapter | null {
  return vendorsForOui(mac)[0] ?? null;
}
