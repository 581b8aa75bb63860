/**
 * The server side of HTTP authentication for phone downloads (RFC 7616 Digest with MD5 and
 * SHA-256, qop=auth; RFC 7617 Basic). Pure: parse an `Authorization` header, build challenges,
 * compute the expected digest, sign and check stateless nonces. No I/O; time and the secret
 * come from the caller.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type ServerDigestAlgorithm = 'MD5' | 'SHA-256';

export interface DigestAuthorization {
  scheme: 'digest';
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: ServerDigestAlgorithm;
  qop: 'auth';
  nc: string;
  cnonce: string;
  opaque: string | null;
}

export interface BasicAuthorization {
  scheme: 'basic';
  username: string;
  password: string;
}

export type Authorization = DigestAuthorization | BasicAuthorization;

/** Real Authorization headers are a few hundred bytes; anything longer is refused unread. */
const MAX_HEADER = 2048;
const TOKEN = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]$/;
const HEX = /^[0-9a-f]+$/i;
const NC = /^[0-9a-f]{8}$/i;

/**
 * Parses an `Authorization` header into Digest or Basic credentials; null for anything else
 * (other schemes, missing fields, unsupported algorithm or qop, syntax errors). One
 * left-to-right scan, linear in the (capped) input; never throws.
 */
export function parseAuthorization(header: string | null | undefined): Authorization | null {
  if (typeof header !== 'string' || header.length > MAX_HEADER) return null;
  const space = header.indexOf(' ');
  if (space <= 0) return null;
  const scheme = header.slice(0, space).toLowerCase();
  const rest = header.slice(space + 1);
  if (scheme === 'basic') return parseBasic(rest.trim());
  if (scheme !== 'digest') return null;
  const p = parseParams(rest);
  if (p === null) return null;
  const username = p.get('username');
  const realm = p.get('realm');
  const nonce = p.get('nonce');
  const uri = p.get('uri');
  const response = p.get('response');
  const nc = p.get('nc');
  const cnonce = p.get('cnonce');
  const qop = p.get('qop')?.toLowerCase();
  const algorithm = (p.get('algorithm') ?? 'MD5').toUpperCase();
  if (username === undefined || realm === undefined || nonce === undefined || uri === undefined || response === undefined) return null;
  if (algorithm !== 'MD5' && algorithm !== 'SHA-256') return null;
  if (qop !== 'auth' || nc === undefined || !NC.test(nc) || cnonce === undefined || cnonce === '') return null;
  if (response.length !== (algorithm === 'MD5' ? 32 : 64) || !HEX.test(response)) return null;
  return { scheme: 'digest', username, realm, nonce, uri, response: response.toLowerCase(), algorithm, qop, nc, cnonce, opaque: p.get('opaque') ?? null };
}

function parseBasic(b64: string): BasicAuthorization | null {
  if (b64 === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return null;
  const decoded = Buffer.from(b64, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0 || /[\x00-\x1f\x7f]/.test(decoded)) return null;
  return { scheme: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** `name=token` / `name="quoted"` pairs separated by commas; names lower-cased; a repeated name is an error. */
function parseParams(s: string): Map<string, string> | null {
  const out = new Map<string, string>();
  let i = 0;
  const n = s.length;
  const ws = () => {
    while (i < n && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  for (;;) {
    ws();
    if (i >= n) return out;
    const start = i;
    while (i < n && TOKEN.test(s[i]!)) i++;
    const name = s.slice(start, i).toLowerCase();
    if (name === '') return null;
    ws();
    if (s[i] !== '=') return null;
    i++;
    ws();
    let value: string;
    if (s[i] === '"') {
      i++;
      let v = '';
      let closed = false;
      while (i < n) {
        const c = s[i]!;
        if (c === '"') {
          closed = true;
          i++;
          break;
        }
        if (c === '\\' && i + 1 < n) {
          v += s[i + 1]!;
          i += 2;
          continue;
        }
        v += c;
        i++;
      }
      if (!closed) return null;
      value = v;
    } else {
      const vs = i;
      while (i < n && TOKEN.test(s[i]!)) i++;
      value = s.slice(vs, i);
      if (value === '') return null;
    }
    if (/[\x00-\x1f\x7f]/.test(value) || out.has(name)) return null;
    out.set(name, value);
    ws();
    if (i >= n) return out;
    if (s[i] !== ',') return null;
    i++;
  }
}

const hashOf = (algorithm: ServerDigestAlgorithm) => (s: string) =>
  createHash(algorithm === 'MD5' ? 'md5' : 'sha256').update(s, 'utf8').digest('hex');

/** The response a client holding `password` must send for `auth` on `method` (RFC 7616 §3.4.1, qop=auth). */
export function expectedDigest(auth: DigestAuthorization, password: string, method: string): string {
  const H = hashOf(auth.algorithm);
  const ha1 = H(`${auth.username}:${auth.realm}:${password}`);
  const ha2 = H(`${method}:${auth.uri}`);
  return H(`${ha1}:${auth.nonce}:${auth.nc}:${auth.cnonce}:${auth.qop}:${ha2}`);
}

/** Constant-time equality of two strings (false when lengths differ). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Whether the digest `uri` names the file requested (origin or absolute form, query ignored). */
export function uriNames(uri: string, name: string): boolean {
  let path = uri;
  const abs = /^https?:\/\/[^/?#]*/i.exec(path);
  if (abs) path = path.slice(abs[0].length);
  const q = path.indexOf('?');
  if (q !== -1) path = path.slice(0, q);
  return path === `/${name}`;
}

/**
 * Stateless nonces: `<issued, base 36>.<HMAC-SHA256(secret, issued:realm), 128 bits>`.
 * Nothing is kept per client; a restart keeps them valid because the secret is stored.
 */
export function makeNonce(secret: Buffer, realm: string, now: number): string {
  const issued = Math.floor(now).toString(36);
  return `${issued}.${sign(secret, realm, issued)}`;
}

export type NonceCheck = 'valid' | 'stale' | 'invalid';

export function checkNonce(secret: Buffer, realm: string, nonce: string, now: number, lifetimeMs: number): NonceCheck {
  if (nonce.length > 64) return 'invalid';
  const dot = nonce.indexOf('.');
  if (dot <= 0) return 'invalid';
  const issued = nonce.slice(0, dot);
  if (!/^[0-9a-z]{1,12}$/.test(issued)) return 'invalid';
  if (!safeEqual(nonce.slice(dot + 1), sign(secret, realm, issued))) return 'invalid';
  const at = parseInt(issued, 36);
  // A nonce from the future (beyond a little skew) was not issued by this clock.
  if (at > now + 5_000) return 'invalid';
  return now - at > lifetimeMs ? 'stale' : 'valid';
}

function sign(secret: Buffer, realm: string, issued: string): string {
  return createHmac('sha256', secret).update(`${issued}:${realm}`).digest('base64url').slice(0, 22);
}

/** `WWW-Authenticate` values, one per scheme, in the order phones expect them (MD5 first). */
export function challenges(realm: string, nonce: string, opts: { stale: boolean; basic: boolean }): string[] {
  const stale = opts.stale ? ', stale=true' : '';
  const q = quote(realm);
  const out = [
    `Digest realm=${q}, qop="auth", algorithm=MD5, nonce="${nonce}"${stale}`,
    `Digest realm=${q}, qop="auth", algorithm=SHA-256, nonce="${nonce}"${stale}`,
  ];
  if (opts.basic) out.push(`Basic realm=${q}, charset="UTF-8"`);
  return out;
}

function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
