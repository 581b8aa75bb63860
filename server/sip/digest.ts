/**
 * HTTP Digest authentication as SIP uses it (RFC 3261 §22.4, RFC 2617, RFC 7616, RFC 8760).
 * Pure: parse a `Digest ...` challenge, compute the matching credentials. The cnonce comes
 * from the caller so known-answer tests can pin it.
 */
import { createHash } from 'node:crypto';

export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';

export interface DigestChallenge {
  realm: string;
  nonce: string;
  algorithm: DigestAlgorithm;
  /** `auth` when the server offered it; null for the RFC 2069/2617 legacy form without qop. */
  qop: 'auth' | null;
  opaque: string | null;
  /** The nonce merely expired: the same credentials may be retried once more. */
  stale: boolean;
}

/** Challenges are header values, already capped by the message parser; this is a second fence. */
const MAX_CHALLENGE_LENGTH = 4096;
const ALGORITHMS: ReadonlyMap<string, DigestAlgorithm> = new Map([
  ['md5', 'MD5'], ['md5-sess', 'MD5-sess'], ['sha-256', 'SHA-256'], ['sha-256-sess', 'SHA-256-sess'],
]);
const TOKEN_CHAR = /[A-Za-z0-9!#$%&'*+\-.^_`|~]/;

/**
 * Parses one `Digest` challenge. Returns null for other schemes, missing realm/nonce, an
 * algorithm we cannot compute, a qop list without `auth`, or any syntax error.
 * One left-to-right scan: linear in the input, and it never throws.
 */
export function parseDigestChallenge(header: string): DigestChallenge | null {
  if (header.length > MAX_CHALLENGE_LENGTH) return null;
  const m = /^[ \t]*digest[ \t]+/i.exec(header);
  if (m === null) return null;
  const params = parseAuthParams(header, m[0].length);
  if (params === null) return null;

  const realm = params.get('realm');
  const nonce = params.get('nonce');
  if (realm === undefined || nonce === undefined || nonce === '') return null;

  const algorithm = ALGORITHMS.get((params.get('algorithm') ?? 'MD5').toLowerCase());
  if (algorithm === undefined) return null;

  // qop is a quoted, comma-separated list (RFC 2617 §3.2.1); auth-int is not offered by us.
  let qop: 'auth' | null = null;
  const qopList = params.get('qop');
  if (qopList !== undefined) {
    if (!qopList.split(',').some((q) => q.trim().toLowerCase() === 'auth')) return null;
    qop = 'auth';
  }

  return {
    realm,
    nonce,
    algorithm,
    qop,
    opaque: params.get('opaque') ?? null,
    stale: (params.get('stale') ?? '').toLowerCase() === 'true',
  };
}

/**
 * `name=token` / `name="quoted string"` pairs separated by commas, names lower-cased, first
 * occurrence wins. Values with control characters are refused: they would be echoed back into
 * our own request headers.
 */
function parseAuthParams(s: string, from: number): Map<string, string> | null {
  const params = new Map<string, string>();
  let i = from;
  const skipSpace = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  for (;;) {
    skipSpace();
    if (i >= s.length) break;
    const nameStart = i;
    while (i < s.length && TOKEN_CHAR.test(s[i] ?? '')) i++;
    const name = s.slice(nameStart, i).toLowerCase();
    if (name === '') return null;
    skipSpace();
    if (s[i] !== '=') return null;
    i++;
    skipSpace();
    let value = '';
    if (s[i] === '"') {
      i++;
      const parts: string[] = [];
      let closed = false;
      while (i < s.length) {
        const c = s[i] ?? '';
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        if (c === '\\' && i + 1 < s.length) {
          parts.push(s[i + 1] ?? ''); // quoted-pair
          i += 2;
          continue;
        }
        parts.push(c);
        i++;
      }
      if (!closed) return null;
      value = parts.join('');
    } else {
      const valueStart = i;
      while (i < s.length && TOKEN_CHAR.test(s[i] ?? '')) i++;
      value = s.slice(valueStart, i);
      if (value === '') return null;
    }
    if (/[\x00-\x1f\x7f]/.test(value)) return null;
    if (!params.has(name)) params.set(name, value);
    skipSpace();
    if (i >= s.length) break;
    if (s[i] !== ',') return null;
    i++;
  }
  return params;
}

export interface DigestCredentials {
  username: string;
  password: string;
  /** Request method and Request-URI of the request being authorised. */
  method: string;
  uri: string;
  /** Client nonce; fresh random for every new nonce (the client uses 16 random bytes, hex). */
  cnonce: string;
  /** Nonce count; this client never reuses a nonce, so the default 1 is the usual value. */
  nc?: number;
}

/** Picks the strongest challenge we can answer (RFC 8760 §2.4: SHA-256 before MD5). */
export function pickChallenge(headers: readonly string[]): DigestChallenge | null {
  let best: DigestChallenge | null = null;
  for (const h of headers) {
    const c = parseDigestChallenge(h);
    if (c !== null && (best === null || (c.algorithm.startsWith('SHA') && !best.algorithm.startsWith('SHA')))) best = c;
  }
  return best;
}

/** The `response` hash (RFC 7616 §3.4.1; the no-qop branch is RFC 2617 §3.2.2.1). */
export function digestResponse(challenge: DigestChallenge, creds: DigestCredentials): string {
  const H = (s: string): string =>
    createHash(challenge.algorithm.startsWith('SHA-256') ? 'sha256' : 'md5').update(s, 'utf8').digest('hex');
  let ha1 = H(`${creds.username}:${challenge.realm}:${creds.password}`);
  if (challenge.algorithm.endsWith('-sess')) ha1 = H(`${ha1}:${challenge.nonce}:${creds.cnonce}`);
  const ha2 = H(`${creds.method}:${creds.uri}`);
  if (challenge.qop === null) return H(`${ha1}:${challenge.nonce}:${ha2}`);
  return H(`${ha1}:${challenge.nonce}:${formatNc(creds.nc ?? 1)}:${creds.cnonce}:${challenge.qop}:${ha2}`);
}

/** The value of the `Authorization` / `Proxy-Authorization` header answering `challenge`. */
export function authorizationHeader(challenge: DigestChallenge, creds: DigestCredentials): string {
  const parts = [
    `username=${quote(creds.username)}`,
    `realm=${quote(challenge.realm)}`,
    `nonce=${quote(challenge.nonce)}`,
    `uri=${quote(creds.uri)}`,
    `response=${quote(digestResponse(challenge, creds))}`,
    `algorithm=${challenge.algorithm}`,
  ];
  // cnonce/nc only exist with qop; -sess also needs the cnonce (RFC 2617 §3.2.2).
  if (challenge.qop !== null || challenge.algorithm.endsWith('-sess')) parts.push(`cnonce=${quote(creds.cnonce)}`);
  if (challenge.opaque !== null) parts.push(`opaque=${quote(challenge.opaque)}`);
  if (challenge.qop !== null) parts.push(`qop=${challenge.qop}`, `nc=${formatNc(creds.nc ?? 1)}`);
  return `Digest ${parts.join(', ')}`;
}

function formatNc(nc: number): string {
  return nc.toString(16).padStart(8, '0');
}

function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
