/** Small helpers the adapters use to build FileMatch values and read request file names. */
import { parseMac, ZERO_MAC, type Mac } from '../server/domain/mac.js';
import type { FileKind, FileMatch } from './vendor.js';

/** Longest file name any adapter accepts; longer names are never a phone file. */
export const MAX_FILE_NAME = 64;

export function fileMatch(
  vendor: string,
  kind: FileKind,
  fields: { template?: string; mac?: Mac; slot?: string; family?: string; optional?: boolean },
): FileMatch {
  return {
    vendor,
    kind,
    template: fields.template ?? null,
    mac: fields.mac ?? null,
    slot: fields.slot ?? null,
    family: fields.family ?? null,
    optional: fields.optional ?? false,
  };
}

/** 12 hex digits (any case) → the normalised MAC; the all-zero MAC and anything else → null. */
export function deviceMac(hex: string | undefined): Mac | null {
  if (hex === undefined) return null;
  const mac = parseMac(hex);
  return mac === null || mac === ZERO_MAC ? null : mac;
}
