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

/**
 * Why a MAC can never be one phone's own address, or null when it can be. All-zero is the common
 * file name (Polycom, Sangoma), all-ones is broadcast, and a set least significant bit of the
 * first octet marks a group (multicast) address. Only for MACs given to create a device: phone
 * file names keep matching `000000000000.cfg` as a common file.
 */
export function reservedMacReason(mac: Mac): string | null {
  if (mac === ZERO_MAC) return '000000000000 is reserved (the common file name of Polycom and Sangoma phones), not a phone\'s address';
  if (mac === 'ffffffffffff') return 'ff:ff:ff:ff:ff:ff is the broadcast address, not a phone\'s address';
  if ((parseInt(mac.slice(0, 2), 16) & 1) === 1) return 'a multicast (group) address (first octet odd), not a phone\'s address';
  return null;
}

export function formatMacColons(mac: Mac): string {
  return mac.replace(/(..)(?!$)/g, '$1:');
}

export function ouiOf(mac: Mac): string {
  return mac.slice(0, 6);
}
