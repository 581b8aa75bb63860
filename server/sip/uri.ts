/**
 * Device SIP URIs (`sipContact`): the one place a contact URI is parsed.
 *
 * Accepts what an admin would type for a desk phone (RFC 3261 §19.1 subset):
 *   sip:host   sip:host:port   sip:user@host:port;transport=tcp   sips:host   sip:[::1]:5062
 * Rejects (null) everything else: other schemes, passwords in the userinfo, URI headers (`?...`),
 * transports deskprov cannot speak, whitespace, bad ports and malformed hosts.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { SipTransport } from '../domain/types.js';

export interface SipUri {
  /** The user part, still percent-encoded as written; null when absent. */
  user: string | null;
  /** Lower-case hostname, dotted IPv4, or IPv6 without brackets. */
  host: string;
  port: number;
  transport: SipTransport;
}

/** Long enough for any real contact; keeps hostile input cheap to reject. */
const MAX_URI_LENGTH = 512;

// RFC 3261 §25.1: user = 1*( unreserved / escaped / user-unreserved )
const USER = /^(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+$/;
// hostname = *( domainlabel "." ) toplabel [ "." ]; a toplabel starts with a letter,
// which is what keeps "999.1.1.1" from passing as a hostname.
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const TOPLABEL = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const PORT = /^[0-9]{1,5}$/;
const PARAM_NAME = /^[A-Za-z0-9\-_.!~*'()%]+$/;
const PARAM_VALUE = /^[A-Za-z0-9\-_.!~*'()%[\]/:&+$]*$/;

export const DEFAULT_SIP_PORT = 5060;
export const DEFAULT_SIPS_PORT = 5061;

/** Parses a device contact URI; returns null for anything that is not a usable SIP/SIPS URI. */
export function parseSipUri(input: string): SipUri | null {
  if (input.length === 0 || input.length > MAX_URI_LENGTH) return null;
  // No whitespace or controls anywhere: they never belong in a URI and would end up in a header.
  if (/[\s\x00-\x1f\x7f]/.test(input)) return null;

  const colon = input.indexOf(':');
  if (colon < 0) return null;
  const scheme = input.slice(0, colon).toLowerCase();
  if (scheme !== 'sip' && scheme !== 'sips') return null;
  let rest = input.slice(colon + 1);
  if (rest.includes('?')) return null; // URI headers make no sense for a NOTIFY target

  let user: string | null = null;
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
    // "user:password@" is deprecated (RFC 3261 §19.1.1) and would leak a secret into logs.
    if (user.includes(':') || !USER.test(user)) return null;
  }

  const semi = rest.indexOf(';');
  const hostport = semi < 0 ? rest : rest.slice(0, semi);
  const params = semi < 0 ? null : parseParams(rest.slice(semi + 1));
  if (params === null && semi >= 0) return null;

  const hp = parseHostPort(hostport);
  if (hp === null) return null;

  const transport = resolveTransport(scheme, params?.get('transport'));
  if (transport === null) return null;

  const port = hp.port ?? (transport === 'tls' ? DEFAULT_SIPS_PORT : DEFAULT_SIP_PORT);
  return { user, host: hp.host, port, transport };
}

/** A SIP user part safe to place in a Request-URI as is (see {@link parseSipUri}). */
export function isSipUser(user: string): boolean {
  return user.length > 0 && user.length <= 256 && USER.test(user);
}

/** A host deskprov can send to: an IP literal or a syntactically valid hostname. */
export function isSipHost(host: string): boolean {
  return isIPv4(host) || isIPv6(host) || isHostname(host.toLowerCase());
}

function parseHostPort(hostport: string): { host: string; port: number | null } | null {
  let host: string;
  let portText: string | null = null;
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close < 0) return null;
    host = hostport.slice(1, close);
    if (!isIPv6(host)) return null;
    const after = hostport.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) return null;
      portText = after.slice(1);
    }
  } else {
    const c = hostport.indexOf(':');
    host = c < 0 ? hostport : hostport.slice(0, c);
    if (c >= 0) portText = hostport.slice(c + 1);
    host = host.toLowerCase();
    if (!isIPv4(host) && !isHostname(host)) return null;
  }
  if (portText === null) return { host: host.toLowerCase(), port: null };
  if (!PORT.test(portText)) return null;
  const port = Number(portText);
  if (port < 1 || port > 65535) return null;
  return { host: host.toLowerCase(), port };
}

function isHostname(host: string): boolean {
  if (host.length === 0 || host.length > 253) return false;
  const labels = (host.endsWith('.') ? host.slice(0, -1) : host).split('.');
  const top = labels.pop();
  if (top === undefined || !TOPLABEL.test(top)) return false;
  return labels.every((l) => LABEL.test(l));
}

/** `;name[=value]` pairs, names lower-cased; a repeated parameter makes the URI ambiguous → null. */
function parseParams(text: string): Map<string, string> | null {
  const params = new Map<string, string>();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? '' : part.slice(eq + 1);
    if (!PARAM_NAME.test(name) || !PARAM_VALUE.test(value) || params.has(name)) return null;
    params.set(name, value);
  }
  return params;
}

/**
 * `sips:` means TLS on every hop (RFC 3261 §19.1.2): `;transport=tcp` is the normal way to
 * write that, `;transport=udp` contradicts it. Other transports (sctp, ws) are not supported.
 */
function resolveTransport(scheme: string, param: string | undefined): SipTransport | null {
  const t = param?.toLowerCase();
  if (scheme === 'sips') return t === undefined || t === 'tcp' || t === 'tls' ? 'tls' : null;
  if (t === undefined || t === 'udp') return 'udp';
  if (t === 'tcp' || t === 'tls') return t;
  return null;
}
