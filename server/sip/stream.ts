/**
 * One outbound TCP or TLS connection carrying SIP messages: connect (bounded by a timeout),
 * write requests, frame responses. Every failure ends up in exactly one `onClose(reason)`;
 * nothing here throws or leaves an 'error' event unhandled.
 */
import net from 'node:net';
import tls from 'node:tls';
import { StreamFramer } from './framing.js';
import type { Timers } from './timers.js';

export interface TlsClientOptions {
  /** Verify the phone's certificate (default true). Many phones ship self-signed ones. */
  rejectUnauthorized?: boolean;
  /** Extra trust anchor(s), PEM. */
  ca?: string | Buffer;
}

export interface StreamEndpoint {
  host: string;
  port: number;
  transport: 'tcp' | 'tls';
}

export interface StreamHandlers {
  onMessage(message: Buffer): void;
  /** The connection is gone (peer close, error, framing violation); not called after close(). */
  onClose(reason: string): void;
}

export class StreamConnection {
  private closed = false;

  private constructor(
    private readonly socket: net.Socket,
    readonly localAddress: string,
    readonly localPort: number,
  ) {}

  /**
   * Connects; resolves with the connection, or with a reason string when connecting failed
   * (refused, unreachable, TLS handshake or certificate failure, timeout).
   */
  static open(
    endpoint: StreamEndpoint,
    opts: { tls?: TlsClientOptions | undefined; timers: Timers; timeoutMs: number },
    handlers: StreamHandlers,
  ): { ready: Promise<StreamConnection | string>; abort: () => void } {
    const socket =
      endpoint.transport === 'tls'
        ? tls.connect({
            host: endpoint.host,
            port: endpoint.port,
            // SNI only carries hostnames (RFC 6066 §3); certificate checks still use `host`.
            ...(net.isIP(endpoint.host) === 0 ? { servername: endpoint.host } : {}),
            rejectUnauthorized: opts.tls?.rejectUnauthorized ?? true,
            ...(opts.tls?.ca !== undefined ? { ca: opts.tls.ca } : {}),
          })
        : net.connect({ host: endpoint.host, port: endpoint.port });
    const connectEvent = endpoint.transport === 'tls' ? 'secureConnect' : 'connect';

    let settle: (v: StreamConnection | string) => void = () => {};
    const ready = new Promise<StreamConnection | string>((resolve) => (settle = resolve));
    let conn: StreamConnection | null = null;
    let lastError = '';

    const timer = opts.timers.setTimeout(() => {
      socket.destroy();
      settle('connect timeout');
    }, opts.timeoutMs);

    socket.on('error', (err: NodeJS.ErrnoException) => {
      lastError = err.code ?? err.message;
    });
    socket.once(connectEvent, () => {
      opts.timers.clearTimeout(timer);
      socket.setNoDelay(true);
      conn = new StreamConnection(socket, socket.localAddress ?? '', socket.localPort ?? 0);
      settle(conn);
      const framer = new StreamFramer();
      socket.on('data', (chunk: Buffer) => {
        const messages = framer.push(chunk);
        if (messages === null) {
          conn?.fail(handlers, 'framing error');
          return;
        }
        for (const m of messages) handlers.onMessage(m);
      });
    });
    socket.on('close', () => {
      opts.timers.clearTimeout(timer);
      if (conn === null) settle(lastError === '' ? 'connection closed' : `connection failed: ${lastError}`);
      else conn.fail(handlers, lastError === '' ? 'connection closed' : `connection lost: ${lastError}`);
    });
    // The peer half-closing means no response will come: treat it as closed.
    socket.on('end', () => socket.destroy());

    return {
      ready,
      abort: () => {
        opts.timers.clearTimeout(timer);
        socket.destroy();
        settle('aborted');
      },
    };
  }

  send(data: string): void {
    if (!this.closed) this.socket.write(data);
  }

  /** Our close: no onClose callback follows. */
  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private fail(handlers: StreamHandlers, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    handlers.onClose(reason);
  }
}
