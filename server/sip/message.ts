/**
 * SIP wire format for deskprov's NOTIFY client: build the request, parse the responses.
 * Pure functions, no I/O.
 *
 * The parser sits on a socket that every phone on the network can reach, so it is defensive:
 * responses only, at most 8 KB, one linear pass, no regex that can backtrack over a whole
 * line, headers kept in fixed fields (no object keyed by attacker-chosen names), and null —
 * never an exception — for anything it does not like.
 */
import type { SipTransport } from '../domain/types.js';

export const MAX_MESSAGE_BYTES = 8 * 1024;

// ---------------------------------------------------------------------------------------------
// Building

export interface NotifyMessage {
  /** Where the Request-URI points: the phone, even when the request travels via a proxy. */
  target: { host: string; port: number; transport: SipTransport };
  /** Request-URI user part (already a valid SIP user); "anonymous" when omitted. */
  user?: string;
  /** Our side: the transport actually used for this hop and the address phones answer to. */
  local: { host: string; port: number; transport: SipTransport };
  branch: string;
  fromTag: string;
  callId: string;
  cseq: number;
  /** Event header value, e.g. `check-sync;reboot=true`. */
  event: string;
  /** `Authorization` / `Proxy-Authorization` lines answering earlier challenges. */
  credentials?: readonly { header: 'Authorization' | 'Proxy-Authorization'; value: string }[];
}

// event = event-type *( SEMI event-param ), all tokens (RFC 6665 §8.4).
const TOKEN = "[A-Za-z0-9!%*_+`'~.-]+";
const EVENT = new RegExp(`^${TOKEN}(?:;${TOKEN}(?:=${TOKEN})?)*$`);
const BRANCH = /^z9hG4bK[A-Za-z0-9.!%*_+`'~-]+$/; // RFC 3261 §8.1.1.7 magic cookie
const WORD = /^[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}]+$/; // Call-ID word (RFC 3261 §25.1)
const SAFE_HEADER_VALUE = /^[^\x00-\x1f\x7f]*$/;

/** An Event header value deskprov can send (`check-sync;reboot=true`); tokens only, no CR/LF. */
export function isEventValue(event: string): boolean {
  return event.length <= 256 && EVENT.test(event);
}

/** `host` as it appears in a URI or Via: IPv6 literals get their brackets. */
export function formatHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** `sip:<user>@<host>:<port>[;transport=tcp|tls]` — also the digest `uri` parameter. */
export function formatRequestUri(target: NotifyMessage['target'], user = 'anonymous'): string {
  const transport = target.transport === 'udp' ? '' : `;transport=${target.transport}`;
  return `sip:${user}@${formatHost(target.host)}:${target.port}${transport}`;
}

/**
 * The NOTIFY request text, CRLF line endings, no body. An out-of-dialog NOTIFY with
 * `Subscription-State: terminated` is what phones accept as check-sync (no SUBSCRIBE first).
 * Throws RangeError when a field would break the message (CR/LF injection, bad token): that is
 * a programming error upstream, not something a phone can cause.
 */
export function buildNotify(m: NotifyMessage): string {
  if (!EVENT.test(m.event)) throw new RangeError(`invalid Event value: ${JSON.stringify(m.event)}`);
  if (!BRANCH.test(m.branch)) throw new RangeError('Via branch must start with z9hG4bK and be a token');
  if (!WORD.test(m.callId) || !WORD.test(m.fromTag)) throw new RangeError('invalid Call-ID or From tag');
  if (!Number.isInteger(m.cseq) || m.cseq < 1 || m.cseq > 0x7fffffff) throw new RangeError('invalid CSeq');
  for (const h of [m.target.host, m.local.host, m.user ?? '']) {
    if (!SAFE_HEADER_VALUE.test(h) || /[\s<>;@]/.test(h)) throw new RangeError(`invalid host/user: ${JSON.stringify(h)}`);
  }
  for (const c of m.credentials ?? []) {
    if (!SAFE_HEADER_VALUE.test(c.value)) throw new RangeError('invalid credentials value');
  }

  const ruri = formatRequestUri(m.target, m.user);
  const local = `${formatHost(m.local.host)}:${m.local.port}`;
  const contactTransport = m.local.transport === 'udp' ? '' : `;transport=${m.local.transport}`;
  const lines = [
    `NOTIFY ${ruri} SIP/2.0`,
    // rport (RFC 3581): answer to the address and port the request came from, which is what
    // gets responses through NAT and to our ephemeral port.
    `Via: SIP/2.0/${m.local.transport.toUpperCase()} ${local};branch=${m.branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:deskprov@${local}>;tag=${m.fromTag}`,
    `To: <${ruri}>`,
    `Call-ID: ${m.callId}`,
    `CSeq: ${m.cseq} NOTIFY`,
    `Contact: <sip:deskprov@${local}${contactTransport}>`,
    `Event: ${m.event}`,
    'Subscription-State: terminated',
    ...(m.credentials ?? []).map((c) => `${c.header}: ${c.value}`),
    'User-Agent: deskprov',
    'Content-Length: 0',
  ];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

// ---------------------------------------------------------------------------------------------
// Parsing

export interface SipResponse {
  status: number;
  reason: string;
  /** `branch` parameter of the top Via: what the response is matched on. */
  branch: string;
  cseq: { seq: number; method: string };
  callId: string;
  /** One entry per header line (a challenge per line; commas inside one are not split). */
  wwwAuthenticate: string[];
  proxyAuthenticate: string[];
}

/** RFC 3261 §7.3.3 compact forms → full lower-case names (the ones a response may use). */
const COMPACT: ReadonlyMap<string, string> = new Map([
  ['v', 'via'], ['i', 'call-id'], ['f', 'from'], ['t', 'to'], ['l', 'content-length'],
  ['m', 'contact'], ['c', 'content-type'], ['e', 'content-encoding'], ['k', 'supported'],
  ['s', 'subject'], ['o', 'event'], ['u', 'allow-events'],
]);
const HEADER_NAME = new RegExp(`^${TOKEN}$`);
const STATUS_LINE = /^SIP\/2\.0 ([1-6][0-9]{2})(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?$/i;
const CSEQ = /^([0-9]{1,10})[ \t]+([A-Za-z]{1,32})$/;
const DIGITS = /^[0-9]{1,10}$/;

/**
 * Splits a header block (the text between the start line and the empty line) into
 * `[lower-case full name, value]` pairs, unfolding continuation lines (RFC 3261 §7.3.1).
 * Returns null when a line is not a header.
 */
export function splitHeaders(block: string): Array<[string, string]> | null {
  const out: Array<[string, string]> = [];
  if (block === '') return out;
  for (const line of block.split('\r\n')) {
    const last = out[out.length - 1];
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (last === undefined) return null; // folding before any header
      last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    const name = line.slice(0, colon).trimEnd().toLowerCase();
    if (!HEADER_NAME.test(name)) return null;
    out.push([COMPACT.get(name) ?? name, line.slice(colon + 1).trim()]);
  }
  return out;
}

/** Content-Length from split headers: 0 when absent, null when malformed or contradictory. */
export function contentLengthOf(headers: ReadonlyArray<readonly [string, string]>): number | null {
  let length: number | undefined;
  for (const [name, value] of headers) {
    if (name !== 'content-length') continue;
    if (!DIGITS.test(value)) return null;
    const n = Number(value);
    if (length !== undefined && length !== n) return null;
    length = n;
  }
  return length ?? 0;
}

/** Parses one SIP response (a datagram or a framed stream message); null for anything else. */
export function parseResponse(input: Uint8Array | string): SipResponse | null {
  const text = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
  if (text.length > MAX_MESSAGE_BYTES) return null;

  // RFC 3261 §7.5: CRLFs before the start line (keep-alives) are ignored.
  let start = 0;
  while (text.charCodeAt(start) === 13 && text.charCodeAt(start + 1) === 10) start += 2;
  const headEnd = text.indexOf('\r\n\r\n', start);
  if (headEnd < 0) return null;
  const firstEol = text.indexOf('\r\n', start);

  const status = STATUS_LINE.exec(text.slice(start, firstEol));
  if (status === null) return null;

  const headers = splitHeaders(firstEol === headEnd ? '' : text.slice(firstEol + 2, headEnd));
  if (headers === null) return null;

  // §18.3: a datagram shorter than its Content-Length is discarded.
  const length = contentLengthOf(headers);
  if (length === null || text.length - (headEnd + 4) < length) return null;

  let via: string | undefined;
  let callId: string | undefined;
  let cseqValue: string | undefined;
  const wwwAuthenticate: string[] = [];
  const proxyAuthenticate: string[] = [];
  for (const [name, value] of headers) {
    if (name === 'via') via ??= value;
    else if (name === 'call-id') callId ??= value;
    else if (name === 'cseq') cseqValue ??= value;
    else if (name === 'www-authenticate') wwwAuthenticate.push(value);
    else if (name === 'proxy-authenticate') proxyAuthenticate.push(value);
  }
  if (via === undefined || callId === undefined || callId === '' || cseqValue === undefined) return null;
  const branch = topViaBranch(via);
  const cseq = CSEQ.exec(cseqValue);
  if (branch === null || cseq === null) return null;

  return {
    status: Number(status[1]),
    // latin1 decoding keeps this parser byte-exact; re-decode the phrase as the UTF-8 it is.
    reason: Buffer.from(status[2] ?? '', 'latin1').toString('utf8'),
    branch,
    cseq: { seq: Number(cseq[1]), method: (cseq[2] ?? '').toUpperCase() },
    callId,
    wwwAuthenticate,
    proxyAuthenticate,
  };
}

/** The `branch` parameter of the first via-parm in a Via header value, or null. */
function topViaBranch(via: string): string | null {
  const comma = via.indexOf(',');
  const first = comma < 0 ? via : via.slice(0, comma);
  const params = first.split(';');
  for (let i = 1; i < params.length; i++) {
    const p = params[i] ?? '';
    const eq = p.indexOf('=');
    if (eq < 0 || p.slice(0, eq).trim().toLowerCase() !== 'branch') continue;
    const value = p.slice(eq + 1).trim();
    return HEADER_NAME.test(value) ? value : null;
  }
  return null;
}
