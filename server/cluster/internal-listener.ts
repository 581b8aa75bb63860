/**
 * The primary's listener for requests its phone workers pass on: a Unix socket in a directory
 * only this user can open (so nobody else can claim an address with PEER_HEADER). Each
 * request's remote address becomes the phone's or browser's, as the worker saw it, so
 * allowlists, blocks, audit lines and rate limits see the real client.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The client's address, set by the worker's proxy (and only honoured on this socket). */
export const PEER_HEADER = 'x-deskprov-peer';

export interface InternalListener {
  path: string;
  server: Server;
  close(): Promise<void>;
}

export function startInternalListener(listener: RequestListener): Promise<InternalListener> {
  const dir = mkdtempSync(join(tmpdir(), 'deskprov-')); // mode 0700
  const path = join(dir, 'primary.sock');
  const server = createServer({ keepAliveTimeout: 60_000, headersTimeout: 30_000, requestTimeout: 60_000 }, (req, res) => {
    const peer = req.headers[PEER_HEADER];
    delete req.headers[PEER_HEADER];
    if (typeof peer !== 'string' || isIP(peer) === 0) {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Bad Request\n');
      return;
    }
    // Set per request, before anything reads it: the worker's proxy sends one request at a time
    // on a connection (no pipelining), so it belongs to this request until the next one starts.
    Object.defineProperty(req.socket, 'remoteAddress', { value: peer, configurable: true });
    listener(req, res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve({
        path,
        server,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeIdleConnections();
          }).finally(() => rmSync(dir, { recursive: true, force: true })),
      });
    });
  });
}
