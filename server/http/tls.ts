/**
 * The HTTPS listener (config http.tls). With `clientCa` it asks phones for a client certificate
 * and verifies it against those vendor CA bundles; the verdict and the MAC the certificate names
 * reach the phone handler through the socket (server/http/client-cert.ts). The handshake never
 * fails for a missing or unknown certificate, so admins reach the API without one;
 * `requireClientCert` is enforced per phone request (403).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { RequestListener } from 'node:http';
import type { Config } from '../config.js';
import { HTTP_TIMEOUTS } from './timeouts.js';

export type TlsConfig = NonNullable<Config['http']['tls']>;

export function createTlsServer(tls: TlsConfig, listener: RequestListener): Server {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new Error(`http.tls.${what}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  };
  const ca = tls.clientCa.map((f) => read(f, 'clientCa'));
  return createServer(
    {
      cert: read(tls.cert, 'cert'),
      key: read(tls.key, 'key'),
      minVersion: 'TLSv1.2',
      ...(ca.length > 0 ? { ca, requestCert: true, rejectUnauthorized: false } : {}),
      ...HTTP_TIMEOUTS,
    },
    listener,
  );
}
