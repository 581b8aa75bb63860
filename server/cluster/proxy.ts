/**
 * A phone worker passes what it does not answer itself (admin API, console, phone screens,
 * uploads, a device's first download credentials) to the primary's internal listener over a Unix socket, with
 * the client's address in PEER_HEADER on every request (see internal-listener.ts).
 */
import { Agent, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { clientIp } from '../http/phone-handler.js';
import { PEER_HEADER } from './internal-listener.js';

/** Per-connection headers that must not be forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'proxy-authenticate', 'proxy-authorization']);

function forwardable(raw: string[], extra: [string, string] | null): string[] {
  const named = new Set<string>();
  // Headers a Connection header names are hop-by-hop too.
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'connection') for (const t of raw[i + 1]!.split(',')) named.add(t.trim().toLowerCase());
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || named.has(name) || name === PEER_HEADER) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  if (extra) out.push(extra[0], extra[1]);
  return out;
}

export function createProxy(socketPath: string, onError: (err: Error) => void) {
  // Kept-alive connections to the primary, closed here after 20 s idle, before the primary's own
  // 60 s: a connection is never reused just as the other side closes it.
  const agent = new Agent({ keepAlive: true, maxSockets: 64, timeout: 20_000 });
  return function proxy(req: IncomingMessage, res: ServerResponse): void {
    const upstream = request(
      {
        socketPath,
        method: req.method,
        path: req.url,
        // The socket's peer as seen here; X-Forwarded-For travels on untouched for trustProxy.
        headers: forwardable(req.rawHeaders, [PEER_HEADER, clientIp(req, false)]),
        agent,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.statusMessage, forwardable(up.rawHeaders, null));
        up.pipe(res);
        up.on('error', () => res.destroy());
      },
    );
    upstream.on('error', (err) => {
      onError(err);
      if (res.headersSent) return void res.destroy();
      res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'Retry-After': '5' });
      res.end('Service Unavailable\n');
    });
    // A client that goes away stops the request upstream too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  };
}
