/**
 * Shared pieces for the adapters' User-Agent parsers. A User-Agent is untrusted input: it is
 * capped, split into whitespace tokens once, and each token is checked with short anchored
 * regexes without nested quantifiers, so parsing is linear in the (capped) length.
 */
import { parseMac } from '../server/domain/mac.js';
import type { UserAgentInfo } from './vendor.js';

/** User-Agents longer than this are cut before parsing (real ones are under 120 characters). */
export const MAX_UA_LENGTH = 512;
/** Only the first tokens are looked at. */
const MAX_TOKENS = 12;

export function uaTokens(ua: unknown): string[] {
  if (typeof ua !== 'string') return [];
  const capped = ua.slice(0, MAX_UA_LENGTH).trim();
  if (capped === '') return [];
  return capped.split(/\s+/, MAX_TOKENS);
}

/** `9.72.0.30`, `124.85.257.55`, `4_27_8`: starts and ends with a digit, digits and separators between. */
export function firmwareToken(token: string | undefined): string | null {
  if (token === undefined || token.length > 40) return null;
  return /^[0-9][0-9._]*[0-9]$/.test(token) ? token : null;
}

/** A model name as phones print it: letters, digits, `-` and `_`, at most 32 characters. */
export function modelToken(token: string | undefined): string | null {
  if (token === undefined) return null;
  return /^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/.test(token) ? token : null;
}

const SANGOMA_MODEL = { P: /^P[0-9]{3}[A-Za-z]{0,3}$/i, S: /^S[0-9]{3}[A-Za-z]{0,3}$/i } as const;

/**
 * Sangoma phones (both series): `Sangoma P330 4_27_8 000FD3D0B030`, the MAC only with
 * send_mac_with_useragent=1. The model's first letter tells the series.
 */
export function parseSangomaUserAgent(ua: string, vendor: string, series: 'P' | 'S'): UserAgentInfo | null {
  const t = uaTokens(ua);
  if (t[0]?.toLowerCase() !== 'sangoma') return null;
  const model = t[1];
  if (model === undefined || !SANGOMA_MODEL[series].test(model)) return null;
  const firmware = firmwareToken(t[2]);
  const mac = firmware !== null && t[3] !== undefined ? parseMac(t[3]) : null;
  return { vendor, model: model.toUpperCase(), firmware, mac };
}
