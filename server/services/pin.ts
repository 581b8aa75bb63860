/**
 * PIN rules and hashing. PINs are stored only as scrypt hashes:
 * `scrypt$N$r$p$saltB64$hashB64` (16-byte random salt, 32-byte key, N=16384 r=8 p=1).
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export const PIN_MAX_LENGTH = 12;

const SCHEME = 'scrypt';
const PARAMS = { N: 16384, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
const DIGITS = /^[0-9]*$/;
const B64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** Stored parameters needing more than this (4× today's 16 MiB) are refused, not computed. */
const MAX_SCRYPT_MEMORY = 64 * 1024 * 1024;

/** null when the PIN is acceptable, else the reason (fit for an error message). */
export function validatePin(pin: string, minLength: number): string | null {
  if (!DIGITS.test(pin)) return 'PIN must contain digits only';
  if (pin.length < minLength) return `PIN must be at least ${minLength} digits`;
  if (pin.length > PIN_MAX_LENGTH) return `PIN must be at most ${PIN_MAX_LENGTH} digits`;
  return null;
}

function derive(pin: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(pin, salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** 128·N·r bytes plus headroom: what scrypt needs for these parameters. */
const maxmemFor = (N: number, r: number, p: number): number => 128 * N * r + 128 * r * p + 1024 * 1024;

export async function hashPin(pin: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const { N, r, p } = PARAMS;
  const key = await derive(pin, salt, KEY_BYTES, { N, r, p, maxmem: maxmemFor(N, r, p) });
  return [SCHEME, N, r, p, salt.toString('base64'), key.toString('base64')].join('$');
}

function strictBase64(text: string): Buffer | null {
  if (!B64.test(text)) return null;
  const buf = Buffer.from(text, 'base64');
  return buf.toString('base64') === text ? buf : null;
}

function smallInt(text: string, max: number): number | null {
  if (!/^[1-9]\d{0,7}$/.test(text)) return null;
  const n = Number(text);
  return n <= max ? n : null;
}

interface Parsed { N: number; r: number; p: number; salt: Buffer; key: Buffer }

/**
 * Parses a stored hash, refusing anything odd. The bounds keep a tampered row from making
 * verification allocate or compute without limit.
 */
function parseStored(stored: string): Parsed | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== SCHEME) return null;
  const [, nText = '', rText = '', pText = '', saltText = '', keyText = ''] = parts;
  const N = smallInt(nText, 1 << 20);
  const r = smallInt(rText, 32);
  const p = smallInt(pText, 4);
  const salt = strictBase64(saltText);
  const key = strictBase64(keyText);
  if (N === null || r === null || p === null || !salt || !key) return null;
  if (N < 2 || (N & (N - 1)) !== 0 || 128 * N * r > MAX_SCRYPT_MEMORY) return null;
  if (salt.length < 8 || key.length < 16 || key.length > 64) return null;
  return { N, r, p, salt, key };
}

/** True when `pin` matches `stored`. Never throws: a malformed stored value is simply false. */
export async function verifyPin(pin: string, stored: string): Promise<boolean> {
  const parsed = parseStored(stored);
  if (!parsed) return false;
  const { N, r, p, salt, key } = parsed;
  try {
    const candidate = await derive(pin, salt, key.length, { N, r, p, maxmem: maxmemFor(N, r, p) });
    return timingSafeEqual(candidate, key);
  } catch {
    // Parameters scrypt itself refuses (e.g. memory limits) mean a stored value we cannot
    // check: a non-match, never a crash of the login route.
    return false;
  }
}
