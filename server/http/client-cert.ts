/**
 * Mutual TLS for phones: what a verified client certificate says about the phone. Yealink and
 * Polycom device certificates carry the MAC in the subject CN or a subjectAltName; whichever
 * field names a MAC first (CN, then SANs) is taken.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { parseMac, type Mac } from '../domain/mac.js';

/** The certificate fields this reads (a subset of node's PeerCertificate). */
export interface CertNames {
  subject?: { CN?: string | string[] | undefined } | undefined;
  subjectaltname?: string | undefined;
}

/** A MAC written as 12 hex digits or with `:`/`-` separators, not part of a longer hex run. */
const MAC_IN_TEXT = /(?:^|[^0-9A-Fa-f])([0-9A-Fa-f]{12}|[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5})(?![0-9A-Fa-f]|[:-][0-9A-Fa-f])/;

export function macInText(text: string): Mac | null {
  if (text.length > 256) return null;
  const m = MAC_IN_TEXT.exec(text);
  return m ? parseMac(m[1]!) : null;
}

export function macFromCertificate(cert: CertNames | null | undefined): Mac | null {
  if (!cert) return null;
  const cn = cert.subject?.CN;
  for (const v of Array.isArray(cn) ? cn : cn ? [cn] : []) {
    const mac = macInText(v);
    if (mac) return mac;
  }
  for (const entry of (cert.subjectaltname ?? '').split(', ').slice(0, 16)) {
    const colon = entry.indexOf(':');
    const mac = macInText(colon === -1 ? entry : entry.slice(colon + 1));
    if (mac) return mac;
  }
  return null;
}

const perSocket = new WeakMap<object, { verified: boolean; clientCertMac: Mac | null }>();

/** For requests over TLS: whether the client certificate verified against the configured CAs, and its MAC. Null for plain HTTP. */
export function tlsInfo(req: IncomingMessage): { verified: boolean; clientCertMac: Mac | null } | null {
  return tlsInfoOf(req.socket);
}

/** tlsInfo for a connection (the phone lane reads sockets, not requests). */
export function tlsInfoOf(connection: Socket): { verified: boolean; clientCertMac: Mac | null } | null {
  const socket = connection as Partial<TLSSocket>;
  if (socket.encrypted !== true || typeof socket.getPeerCertificate !== 'function') return null;
  let info = perSocket.get(socket);
  if (!info) {
    const verified = socket.authorized === true;
    const cert = verified ? socket.getPeerCertificate() : null;
    info = { verified, clientCertMac: verified ? macFromCertificate(cert) : null };
    perSocket.set(socket, info);
  }
  return info;
}
