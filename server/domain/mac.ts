/**
 * MAC addresses: the one place a MAC is parsed and normalised.
 * Stored and compared everywhere as 12 lowercase hex digits.
 */
export type Mac = string & { readonly __brand: 'Mac' };

const PLAIN = /^[0-9a-f]{12}$/;
const SEPARATED = /^[0-9a-f]{2}([:.-]?)[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}$/;
const CISCO_DOTTED = /^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/;

/** Accepts `001565aabbcc`, `00:15:65:AA:BB:CC`, `00-15-65-aa-bb-cc`, `0015.65aa.bbcc`; anything else → null. */
export function parseMac(input: string): Mac | null {
  if (input.length > 17) return null;
  const lower = input.trim().toLowerCase();
  if (PLAIN.test(lower)) return lower as Mac;
  if (SEPARATED.test(lower) || CISCO_DOTTED.test(lower)) return lower.replace(/[:.-]/g, '') as Mac;
  return null;
}

export function isMac(input: string): input is Mac {
  return PLAIN.test(input);
}

/** The all-zero MAC some vendors use for their default/common file. */
export const ZERO_MAC = '000000000000' as Mac;

export function formatMacColons(mac: Mac): string {
  return mac.replace(/(..)(?!$)/g, '$1:');
}

export function ouiOf(mac: Mac): string {
  return mac.slice(0, 6);
}
